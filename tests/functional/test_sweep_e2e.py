"""`ftspec sweep` end to end through the real CLI on a shrunken demo project: a grid then TPE trials on the dev
split, a kill -9 in the middle and `--resume` (finished trials never rerun: counted in Optuna's storage), the best
settings applied, a full run and the gate; the eval set never enters a trial; a configuration that does not fit the
declared GPU is never launched."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ftspec.fsutil import atomic_write_text

DEMO = Path(__file__).resolve().parents[2] / "specs" / "demo"
ENV = {"OMP_NUM_THREADS": "1", "NO_COLOR": "1", "COLUMNS": "200", "TOKENIZERS_PARALLELISM": "false"}
ROWS = {"train": 64, "eval": 8, "adversarial": 4}
SWEEP = """sweep:
  strategy: grid_then_bayesian
  max_trials: {trials}
  space:
    learning_rate: {{low: 5.0e-4, high: 3.0e-3, log: true, grid_points: 2}}
    epochs: {{values: [1, 2]}}
{extra}"""


def project(root: Path, model_dir: Path, trials: int = 6, extra: str = "", gpu_gb: float = 24) -> Path:
    (root / "data").mkdir(parents=True)
    for name, count in ROWS.items():
        lines = (DEMO / "data" / f"{name}.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
        (root / "data" / f"{name}.jsonl").write_text("".join(lines[:count]), encoding="utf-8")
    (root / "models").mkdir()
    (root / "models" / "tiny-llama").symlink_to(model_dir.resolve(), target_is_directory=True)
    text = (DEMO / "project.yaml").read_text(encoding="utf-8")
    text = text[: text.index("\ntraining:")].replace("gpu_memory_gb: 24", f"gpu_memory_gb: {gpu_gb}")
    text += ("\ntraining:\n  epochs: 1\n  batch_size: 8\n  gradient_accumulation: 1\n  eval_steps: 2\n"
             "  max_seq_length: 128\n  scheduler: constant\n"
             "evaluation:\n  max_examples: 4\n  generation: {max_new_tokens: 24, batch_size: 4}\n")
    text += SWEEP.format(trials=trials, extra=extra)
    spec = root / "project.yaml"
    atomic_write_text(spec, text)
    return spec


def _cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ftspec", *args], env={**os.environ, **ENV}, capture_output=True,
                          text=True, timeout=timeout)


def _trials_in_storage(folder: Path) -> list:
    import optuna

    try:
        return optuna.load_study(study_name="sweep", storage=f"sqlite:///{folder / 'study.db'}").get_trials()
    except KeyError:  # the database file exists a moment before the sweep has created its study in it
        return []


def _finished(folder: Path) -> list:
    return [t for t in _trials_in_storage(folder) if t.state.is_finished() and not t.user_attrs.get("requeued")]


def test_a_configuration_that_cannot_fit_is_never_launched(tmp_path, tiny_model_dir):
    spec = project(tmp_path, tiny_model_dir, trials=1, gpu_gb=4)
    text = spec.read_text(encoding="utf-8").replace(
        "    epochs: {values: [1, 2]}\n", "    batch_size: {values: [4096]}\n")
    text = text.replace("log: true, grid_points: 2}", "log: true, grid_points: 2}\n    epochs: {values: [1]}", 1)
    atomic_write_text(spec, text)
    result = _cli("sweep", str(spec), "--json")
    assert result.returncode == 2, result.stdout + result.stderr  # no trial could run
    report = json.loads(result.stdout)
    skipped = report["trials"][0]
    assert skipped["state"] == "skipped" and skipped["run_id"] is None
    assert skipped["fit"]["estimated_gb"] > skipped["fit"]["budget_gb"] == 4
    assert f"needs {skipped['fit']['estimated_gb']:g} GB of 4 GB" in skipped["skipped"]
    assert not (Path(report["sweep_dir"]) / "trials").exists()  # nothing was launched


@pytest.mark.slow
def test_grid_then_tpe_killed_resumed_applied_run_and_gated(tmp_path, demo_model_dir):
    spec = project(tmp_path, demo_model_dir, trials=6)
    proc = subprocess.Popen([sys.executable, "-m", "ftspec", "sweep", str(spec), "--json"], env={**os.environ, **ENV},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    sweeps = tmp_path / "sweeps"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:  # kill -9 once two trials finished, mid third
        folders = list(sweeps.glob("*/study.db"))
        if folders and len(_finished(folders[0].parent)) >= 2:
            break
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    folder = next(sweeps.iterdir())
    before = {t.number: (t.user_attrs.get("run_id"), t.value) for t in _finished(folder)}
    assert len(before) >= 2

    result = _cli("sweep", str(spec), "--resume", "--apply", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    finished = _finished(folder)
    assert len(finished) == 6 and report["counts"]["complete"] + report["counts"]["pruned"] == 6
    after = {t.number: (t.user_attrs.get("run_id"), t.value) for t in finished}
    assert all(after[n] == before[n] for n in before)  # finished before the kill: kept, never rerun
    run_ids = [t.user_attrs["run_id"] for t in finished]
    assert len(set(run_ids)) == 6
    grid = [t.user_attrs["settings"] for t in finished[:4]]
    assert sorted(s["epochs"] for s in grid) == [1, 1, 2, 2] and len({s["learning_rate"] for s in grid}) == 2

    # every trial trained on train rows only: train + dev rows are the 64 train rows, and no trial predicted anything
    for run_id in run_ids:
        trial_dir = folder / "trials" / run_id
        start = json.loads((trial_dir / "train_log.jsonl").read_text().splitlines()[0])
        assert start["num_train_rows"] + start["num_dev_rows"] == ROWS["train"] and start["num_dev_rows"] > 0
        assert not (trial_dir / "predictions.jsonl").exists()
        assert json.loads((trial_dir / "status.json").read_text())["kind"] == "trial"
        assert "(forked)" in (trial_dir / "logs" / "train.log").read_text()  # from the fork server: no imports
    page = (folder / "sweep.html").read_text()
    assert page.count("<circle") >= 1 and "<polyline" in page and "Dev loss of the best trials" in page

    best = report["best"]["settings"]
    text = spec.read_text(encoding="utf-8")
    assert f"learning_rate: {best['learning_rate']}" in text and f"epochs: {best['epochs']}" in text
    assert "# made locally by `ftspec demo-model" in text  # the spec's comments survive the patch
    run = _cli("run", str(spec), "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    run_dir = Path(json.loads(run.stdout)["run_dir"])
    start = json.loads((run_dir / "train_log.jsonl").read_text().splitlines()[0])
    assert start["num_train_rows"] + start["num_dev_rows"] == ROWS["train"]
    gate = _cli("eval", str(spec), "--json")
    assert gate.returncode in (0, 1), gate.stdout + gate.stderr  # a verdict on the untouched eval set
    eval_rows = (tmp_path / "data" / "eval.jsonl").read_text().splitlines()
    scored = [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text().splitlines()]
    assert {r.get("slice") for r in scored} >= {"all"} and len(eval_rows) == ROWS["eval"]


@pytest.mark.slow
def test_a_metric_objective_predicts_the_dev_split_and_never_the_eval_set(tmp_path, demo_model_dir):
    """Two trials at once (parallel: 2), each scored on its own dev predictions."""
    spec = project(tmp_path, demo_model_dir, trials=2,
                   extra="  max_steps: 2\n  objective: exact_match\n  parallel: 2\n")
    text = spec.read_text(encoding="utf-8").replace("    epochs: {values: [1, 2]}\n", "")
    atomic_write_text(spec, text.replace("strategy: grid_then_bayesian", "strategy: grid"))
    result = _cli("sweep", str(spec), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["objective"] == "exact_match" and report["direction"] == "maximize"
    data = tmp_path / "data"
    train = {json.loads(line)["prompt"] for line in (data / "train.jsonl").read_text().splitlines()}
    held_out = {json.loads(line)["prompt"] for name in ("eval", "adversarial")
                for line in (data / f"{name}.jsonl").read_text().splitlines()}
    assert len(report["trials"]) == 2
    trials = _trials_in_storage(Path(report["sweep_dir"]))
    assert max(t.datetime_start for t in trials) < min(t.datetime_complete for t in trials)  # they overlapped
    for row in report["trials"]:
        assert row["state"] == "complete" and 0 <= row["objective"] <= 1
        trial_dir = Path(report["sweep_dir"]) / "trials" / row["run_id"]
        predicted = [json.loads(line) for line in (trial_dir / "predictions.jsonl").read_text().splitlines()]
        start = json.loads((trial_dir / "train_log.jsonl").read_text().splitlines()[0])
        assert len(predicted) == start["num_dev_rows"] > 0  # every dev row, nothing else
        assert {(p["model"], p["slice"]) for p in predicted} == {("finetuned", "dev")}
        assert all("(forked)" in (trial_dir / "logs" / f"{script}.log").read_text() for script in ("train", "eval"))
        prompts = {p["prompt"] for p in predicted}
        assert all(any(source in prompt for source in train) for prompt in prompts)
        assert not any(source in prompt for prompt in prompts for source in held_out)
