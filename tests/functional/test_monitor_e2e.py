"""The monitor in the loop, on the demo: run -> promote -> monitor a month of traffic -> label the re-fine-tune
sample -> audit -> run on the merged data -> promote -> monitor again. One epoch each: the loop, not the model's
skill, is under test. Until `ftspec promote` (the versions branch) is merged, models.json is written by hand in the
shape the monitor reads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ftspec.monitor.traffic import Plan, write_traffic
from tests.conftest import DEMO_SPEC, run_cli


def _run_and_promote(project: Path) -> str:
    before = {p.name for p in (project / "runs").glob("*")}
    done = run_cli("run", "project.yaml", "--no-eval", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    run = ({p.name for p in (project / "runs").glob("*")} - before).pop()
    (project / "models.json").write_text(json.dumps({"promoted": {"run": run}}), encoding="utf-8")
    return run


def _monitor(project: Path) -> dict:
    done = run_cli("monitor", "project.yaml", "--json", cwd=project)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return json.loads(done.stdout)


@pytest.mark.slow
def test_monitor_sample_retrain_and_the_drift_is_gone(tmp_path: Path, tiny_model_dir: Path):
    project = tmp_path / "demo"
    shutil.copytree(DEMO_SPEC.parent, project, ignore=shutil.ignore_patterns("build", "runs", "models", "monitor"))
    text = (project / "project.yaml").read_text(encoding="utf-8")
    text = text.replace("path: models/tiny-llama", f"path: {tiny_model_dir}").replace("epochs: 30", "epochs: 1")
    (project / "project.yaml").write_text(text + "\nmonitoring:\n  logs: traffic.jsonl\n", encoding="utf-8")
    write_traffic(project / "traffic.jsonl", Plan(days=28, topic_from=14))

    first_run = _run_and_promote(project)
    report = _monitor(project)
    assert report["training"]["source"] == f"promoted run {first_run}"
    assert [w["verdict"] for w in report["windows"]] == ["ok", "ok", "refine_tune", "refine_tune"]
    sample = Path(report["files"]["refine_sample.jsonl"]).read_text(encoding="utf-8").splitlines()

    # the labeller: each sampled prompt gets its answer (the log's reference), the provenance is dropped
    logs = (project / "traffic.jsonl").read_text(encoding="utf-8").splitlines()
    labelled = []
    for line in sample:
        row = json.loads(line)
        source = json.loads(logs[int(row["_monitor"]["source"].rsplit(":", 1)[1]) - 1])
        labelled.append(json.dumps({"prompt": row["prompt"], "completion": source["reference"]}))
    (project / "data" / "labelled.jsonl").write_text("\n".join(labelled) + "\n", encoding="utf-8")
    text = (project / "project.yaml").read_text(encoding="utf-8")
    text = text.replace("train: data/train.jsonl", "train: [data/train.jsonl, data/labelled.jsonl]")
    (project / "project.yaml").write_text(text, encoding="utf-8")
    audited = run_cli("data", "audit", "project.yaml", cwd=project)
    assert audited.returncode == 0, audited.stdout + audited.stderr

    second_run = _run_and_promote(project)
    again = _monitor(project)
    assert again["training"]["source"] == f"promoted run {second_run}"
    assert again["training"]["rows"] == report["training"]["rows"] + len(sample)
    for before, after in zip(report["windows"][2:], again["windows"][2:], strict=True):
        assert after["drift"]["novelty"] < 0.5 * before["drift"]["novelty"]
        assert after["verdict"] != "refine_tune", after["reasons"]
    assert again["verdict"] != "refine_tune" and again["plan"] is None, again["reasons"]
