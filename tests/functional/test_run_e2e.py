"""`ftspec run` and `ftspec runs` end to end, through the real CLI, on a real build of a shrunken demo project:
the run folder it leaves, Ctrl-C, and a kill -9 of the whole `ftspec run` followed by `--resume last`."""

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


def small_project(root: Path, model_dir: Path, epochs: int, batch_size: int) -> Path:
    """The demo spec with fewer rows, a short training and a small eval, beside a link to the demo model."""
    (root / "data").mkdir(parents=True)
    for name, count in ROWS.items():
        lines = (DEMO / "data" / f"{name}.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
        (root / "data" / f"{name}.jsonl").write_text("".join(lines[:count]), encoding="utf-8")
    (root / "models").mkdir()
    (root / "models" / "tiny-llama").symlink_to(model_dir.resolve(), target_is_directory=True)
    text = (DEMO / "project.yaml").read_text(encoding="utf-8")
    text = text[: text.index("\ntraining:")] if "\ntraining:" in text else text  # replaced by a shorter one
    text += (f"\ntraining:\n  epochs: {epochs}\n  batch_size: {batch_size}\n  gradient_accumulation: 1\n"
             "  eval_steps: 4\n  max_seq_length: 128\n"
             "evaluation:\n  max_examples: 4\n  generation: {max_new_tokens: 24, batch_size: 4}\n")
    spec = root / "project.yaml"
    atomic_write_text(spec, text)
    return spec


def _ftspec(*args: str) -> list[str]:
    return [sys.executable, "-m", "ftspec", *args]


def _cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(_ftspec(*args), env={**os.environ, **ENV}, capture_output=True, text=True,
                          timeout=timeout)


def _rows(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "train_log.jsonl").read_text().splitlines() if line.strip()]


def only_run(spec: Path) -> Path:
    runs = [p for p in (spec.parent / "runs").iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def _complete_checkpoints(run_dir: Path) -> list[Path]:
    folder = run_dir / "checkpoints"
    return [p for p in folder.glob("checkpoint-*") if (p / "trainer_state.json").is_file()] if folder.is_dir() else []


@pytest.mark.slow
def test_run_fills_a_run_folder_and_runs_lists_it(tmp_path, demo_model_dir):
    spec = small_project(tmp_path, demo_model_dir, epochs=1, batch_size=8)
    result = _cli("run", str(spec), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    run_dir = only_run(spec)
    assert (report["run_id"], report["run_dir"], report["state"]) == (run_dir.name, str(run_dir), "completed")

    assert (run_dir / "spec.yaml").read_bytes() == spec.read_bytes()
    assert (run_dir / "manifest.json").read_bytes() == (tmp_path / "build" / "manifest.json").read_bytes()
    status = json.loads((run_dir / "status.json").read_text())
    assert (status["id"], status["state"], status["returncode"], status["stage"]) == (run_dir.name, "completed", 0,
                                                                                         "eval")
    assert status["ended"] >= status["started"]
    assert (run_dir / "logs" / "train.log").stat().st_size > 0 and (run_dir / "logs" / "eval.log").is_file()

    rows = _rows(run_dir)
    start, end = rows[0], rows[-1]
    assert start["type"] == "start" and end["type"] == "end" and end["status"] == "completed"
    assert end["global_step"] == start["max_steps"] == report["steps"]
    assert report["final_loss"] == [r for r in rows if r["type"] == "train"][-1]["loss"]
    assert list((run_dir / "model").glob("*.safetensors"))
    assert (run_dir / "checkpoints").is_dir()
    predictions = [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text().splitlines()]
    assert {"finetuned"} <= {row["model"] for row in predictions}

    listed = _cli("runs", str(spec), "--json")
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)["runs"]
    assert (row["id"], row["state"], row["steps"], row["verdict"]) == (run_dir.name, "completed", end["global_step"],
                                                                       "not evaluated")
    table = _cli("runs", str(spec))
    line = next(line for line in table.stdout.splitlines() if run_dir.name in line)
    assert "completed" in line and f"{end['global_step']}/{start['max_steps']}" in line


@pytest.mark.slow
def test_a_run_without_eval_gets_its_eval_on_resume(tmp_path, demo_model_dir):
    spec = small_project(tmp_path, demo_model_dir, epochs=1, batch_size=8)
    trained = _cli("run", str(spec), "--no-eval")
    assert trained.returncode == 0, trained.stdout + trained.stderr
    run_dir = only_run(spec)
    assert f"--resume {run_dir.name}" in trained.stdout
    assert not (run_dir / "predictions.jsonl").exists()
    status = json.loads((run_dir / "status.json").read_text())
    assert (status["state"], status["stage"], status["eval_skipped"]) == ("completed", "eval", True)

    evaluated = _cli("run", str(spec), "--resume", "last")
    assert evaluated.returncode == 0, evaluated.stdout + evaluated.stderr
    assert only_run(spec) == run_dir and (run_dir / "predictions.jsonl").stat().st_size > 0
    status = json.loads((run_dir / "status.json").read_text())
    assert (status["state"], status["eval_skipped"], status["attempts"]) == ("completed", False, 2)
    again = _cli("run", str(spec), "--resume", "last")
    assert again.returncode == 2 and "already completed" in again.stderr


@pytest.mark.slow
def test_ctrl_c_stops_the_run_and_says_how_to_resume(tmp_path, demo_model_dir):
    spec = small_project(tmp_path, demo_model_dir, epochs=2, batch_size=2)
    proc = subprocess.Popen(_ftspec("run", str(spec)), env={**os.environ, **ENV}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for(lambda: any('"type": "train"' in log.read_text() for log in tmp_path.glob("runs/*/train_log.jsonl")),
                  240, "the first training step")
        proc.send_signal(signal.SIGINT)  # what a Ctrl-C in the terminal sends to ftspec
        output, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    run_dir = only_run(spec)
    assert proc.returncode == 130, output
    assert f"--resume {run_dir.name}" in output
    status = json.loads((run_dir / "status.json").read_text())
    assert (status["state"], status["stage"]) == ("interrupted", "train")
    assert not (run_dir / "predictions.jsonl").exists()


@pytest.mark.slow
def test_a_run_killed_with_kill_9_resumes_from_its_checkpoint(tmp_path, demo_model_dir):
    spec = small_project(tmp_path, demo_model_dir, epochs=2, batch_size=2)
    proc = subprocess.Popen(_ftspec("run", str(spec)), env={**os.environ, **ENV}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_for(lambda: (tmp_path / "runs").is_dir() and any(_complete_checkpoints(r)
                                                               for r in (tmp_path / "runs").iterdir()),
                  240, "a checkpoint")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole `ftspec run`, as an OOM killer or a closed session would
        proc.wait()
    run_dir = only_run(spec)
    killed = json.loads((run_dir / "status.json").read_text())
    assert killed["state"] == "running"  # nobody lived to write anything else
    steps_before = max(r["step"] for r in _rows(run_dir) if r["type"] == "train")
    assert steps_before < _rows(run_dir)[0]["max_steps"], "training finished before the kill: make it longer"

    listed = json.loads(_cli("runs", str(spec), "--json").stdout)["runs"]
    assert listed[0]["state"] == "interrupted"

    _wait_for(lambda: not _training_alive(killed.get("child_pgid")), 30, "the killed training to be gone")
    resumed = _cli("run", str(spec), "--resume", "last", "--json")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    report = json.loads(resumed.stdout)
    assert (report["run_id"], report["state"], report["attempts"]) == (run_dir.name, "completed", 2)

    rows = _rows(run_dir)
    starts = [i for i, r in enumerate(rows) if r["type"] == "start"]
    assert len(starts) == 2
    second = rows[starts[1]]
    checkpoint_step = int(Path(second["resumed_from"]).name.split("-")[1])
    assert 0 < checkpoint_step <= steps_before
    first_step_after = next(r["step"] for r in rows[starts[1]:] if r["type"] == "train")
    assert first_step_after == checkpoint_step + 1
    assert rows[-1]["type"] == "end" and rows[-1]["global_step"] == second["max_steps"]
    assert (run_dir / "predictions.jsonl").stat().st_size > 0
    assert json.loads((run_dir / "status.json").read_text())["state"] == "completed"
    assert len(list((tmp_path / "runs").iterdir())) == 1  # resumed in place, no new folder


def _training_alive(pgid: int | None) -> bool:
    from ftspec.runtime.status import group_alive

    return pgid is not None and group_alive(pgid)
