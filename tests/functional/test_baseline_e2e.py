"""`ftspec baseline` end to end on the demo's tiny local model: the ladder is measured before any training, and the
decision follows the measurements (and refuses them once the data changes)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import DEMO_SPEC, run_cli

TRIED = re.compile(r"  tried:\n(    .*\n)+")


def demo_copy(tmp_path: Path, metrics: str | None = None, max_examples: int = 30) -> Path:
    """The demo without its declared `tried` scores (so only measurements count), on the first eval rows."""
    project = tmp_path / "demo"
    shutil.copytree(DEMO_SPEC.parent, project, ignore=shutil.ignore_patterns("build", "runs", "baselines"))
    spec = project / "project.yaml"
    text = TRIED.sub("", spec.read_text(encoding="utf-8"))
    if metrics is not None:
        text = re.sub(r"(?ms)^metrics:\n.*?\n\n", f"metrics:\n{metrics}\n\n", text)
    spec.write_text(text.replace("\nevaluation:\n", f"\nevaluation:\n  max_examples: {max_examples}\n"),
                    encoding="utf-8")
    return project


def ok(done, code: int = 0):
    assert done.returncode == code, f"exit {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


def decision(project: Path) -> dict:
    """check's decision; its exit agrees with what build will do: 2 while a blocking prerequisite is unmet."""
    done = run_cli("check", "project.yaml", "--json", cwd=project)
    body = json.loads(done.stdout)
    assert done.returncode == (0 if body["ok"] else 2) == body["exit_code"], done.stderr
    assert body["ok"] == (not body["blocking"])
    return body["decision"]


def baseline_unmet(found: dict) -> bool:
    return any(p["name"] == "baseline" and not p["met"] for p in found["prerequisites"])


@pytest.mark.slow
def test_demo_every_rung_misses_so_the_decision_becomes_fine_tuning(tmp_path: Path, demo_model_dir: Path):
    project = demo_copy(tmp_path)
    before = decision(project)
    assert before["approach"] == "prompting" and baseline_unmet(before)
    assert any("start with the simplest approach: run `ftspec baseline`" in r["text"] for r in before["reasons"])
    assert "baseline" in ok(run_cli("build", "project.yaml", cwd=project), 2).stderr  # a fine-tune needs --force

    measured = json.loads(ok(run_cli("baseline", "project.yaml", "--json", cwd=project)).stdout)
    record = measured["baselines"][0]
    assert list(record["rungs"]) == ["zero_shot", "few_shot", "retrieved_few_shot"]
    assert not any(rung["passed"] for rung in record["rungs"].values())
    folder = project / record["folder"]
    for rung in record["rungs"]:
        assert (folder / rung / "predictions.jsonl").is_file() and (folder / rung / "scores.json").is_file()
        assert record["rungs"][rung]["gates"][0]["value_ci"] is not None

    after = decision(project)
    assert after["approach"] == "fine_tuning" and not baseline_unmet(after)
    plateau = next(r["text"] for r in after["reasons"] if "prompting has plateaued" in r["text"])
    assert f"baselines/{record['id']}" in plateau and "against >= 0.9" in plateau
    assert "measured" in ok(run_cli("explain", "project.yaml", cwd=project)).stdout
    ok(run_cli("build", "project.yaml", cwd=project))

    with open(project / "data" / "train.jsonl", "a", encoding="utf-8") as handle:  # the data changes
        handle.write(json.dumps({"prompt": "One red mug please.", "completion": '{"item": "mug"}'}) + "\n")
    stale = decision(project)
    assert stale["approach"] == "prompting" and baseline_unmet(stale)
    message = f"baselines/{record['id']} (tiny-llama) is stale: the data changed"
    assert any(message in r["text"] for r in stale["reasons"])
    assert message in ok(run_cli("build", "project.yaml", cwd=project), 2).stderr


@pytest.mark.slow
def test_retrieved_few_shot_passes_so_the_decision_is_prompting(tmp_path: Path, demo_model_dir: Path):
    """On the demo, the k most similar training rows lower the reference's perplexity below what zero-shot and
    random few-shot reach; a bar between them is met by retrieved few-shot alone, and nothing is trained."""
    project = demo_copy(tmp_path, metrics='  - {name: perplexity, threshold: "<= 1000"}')
    first = json.loads(ok(run_cli("baseline", "project.yaml", "--json", cwd=project)).stdout)["baselines"][0]
    value = {name: rung["gates"][0]["value"] for name, rung in first["rungs"].items()}
    others = min(value["zero_shot"], value["few_shot"])
    assert value["retrieved_few_shot"] < others, value
    bar = round((value["retrieved_few_shot"] + others) / 2, 6)
    spec = project / "project.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace('"<= 1000"', f'"<= {bar}"'), encoding="utf-8")
    stale = decision(project)  # a measurement scored against other gates is not evidence for these
    assert any(f"baselines/{first['id']} (tiny-llama) is stale: the spec's metrics changed" in r["text"]
               for r in stale["reasons"])

    second = json.loads(ok(run_cli("baseline", "project.yaml", "--json", cwd=project)).stdout)["baselines"][0]
    assert second["predictions_from"] == first["id"]  # only the gate changed: the predictions are rescored
    assert [name for name, rung in second["rungs"].items() if rung["passed"]] == ["retrieved_few_shot"]
    found = decision(project)
    assert found["approach"] == "prompting" and not baseline_unmet(found)
    assert any("retrieved few-shot (k=3) passes every gate" in r["text"] and f"<= {bar:g}" in r["text"]
               for r in found["reasons"])
    assert not (project / "runs").exists()
