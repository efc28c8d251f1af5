"""`tracking: mlflow` (or a list naming it): `ftspec eval` and `ftspec sweep` log to the SQLite store beside the
spec, read back here with MLflow's own client: params, metrics with CIs, gate verdicts, child runs, artifacts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ftspec.fsutil import atomic_write_text
from tests.functional.eval_helpers import rows, write_project, write_run
from tests.functional.test_sweep_e2e import project

ORDERS = [(f'{{"item": "mug", "qty": {i}}}', f'{{"item": "mug", "qty": {i}}}') for i in range(1, 21)]
ENV = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "OMP_NUM_THREADS": "1", "GITHUB_STEP_SUMMARY": ""}
ENV.pop("MLFLOW_TRACKING_URI", None)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ftspec", *args], env=ENV, capture_output=True, text=True,
                          timeout=600)


def _client(spec: Path):
    from mlflow import MlflowClient

    store = spec.parent / "mlflow.db"
    assert store.is_file()
    return MlflowClient(tracking_uri=f"sqlite:///{store}")


def test_eval_logs_metrics_cis_gate_verdicts_and_reports(tmp_path):
    spec = write_project(tmp_path, [{"name": "exact_match", "threshold": ">= 0.9"}])
    body = json.loads(spec.read_text())
    body["tracking"] = ["tensorboard", "mlflow"]  # several trackers: the list form
    spec.write_text(json.dumps(body))
    write_run(tmp_path, rows("finetuned", ORDERS))
    result = _cli("eval", str(spec), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    client = _client(spec)
    experiment = client.get_experiment_by_name("crafted")
    (run,) = client.search_runs([experiment.experiment_id], filter_string="tags.`ftspec.kind` = 'run'")
    gate = report["gates"][0]
    assert run.data.metrics["exact_match.all.value"] == gate["value"] == 1.0
    low, high = gate["ci"]
    assert (run.data.metrics["exact_match.all.ci_low"], run.data.metrics["exact_match.all.ci_high"]) == (low, high)
    assert run.data.metrics["gate.exact_match.all.passed"] == 1
    assert run.data.metrics["models.finetuned.all.exact_match"] == report["models"]["finetuned"]["all"]["exact_match"]
    assert run.data.tags["verdict"] == "pass" and run.data.tags["gate.0.exact_match.all"] == "pass"
    assert len(run.data.tags["spec_sha256"]) == 64
    names = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"report.json", "report.md", "junit.xml", "report.html", "decision.json"} <= names
    assert experiment.artifact_location == (tmp_path / "mlartifacts").as_uri()
    decision = json.loads(Path(client.download_artifacts(run.info.run_id, "decision.json", str(tmp_path))).read_text())
    assert decision["approach"] == run.data.tags["approach"] and decision["reasons"]


def test_a_sweep_logs_a_parent_run_with_its_trials_as_children(tmp_path, tiny_model_dir):
    spec = project(tmp_path, tiny_model_dir, trials=1, gpu_gb=4)  # one trial that cannot fit: no training
    text = spec.read_text(encoding="utf-8").replace("    epochs: {values: [1, 2]}\n",
                                                    "    batch_size: {values: [4096]}\n")
    atomic_write_text(spec, text + "tracking: mlflow\n")
    result = _cli("sweep", str(spec), "--json")
    assert result.returncode == 2, result.stdout + result.stderr
    report = json.loads(result.stdout)
    client = _client(spec)
    experiment = client.get_experiment_by_name("order-to-json")
    (parent,) = client.search_runs([experiment.experiment_id], filter_string="tags.`ftspec.kind` = 'sweep'")
    assert parent.info.run_id == report["mlflow_run_id"] and parent.data.tags["stopped"] == report["stopped"]
    children = client.search_runs([experiment.experiment_id],
                                  filter_string=f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'")
    assert len(children) == len(report["trials"]) == 1
    (child,) = children
    assert child.data.params["batch_size"] == "4096" and child.data.tags["state"] == "skipped"
    assert "GB" in child.data.tags["note"]
    assert {a.path for a in client.list_artifacts(parent.info.run_id)} == {"sweep.json", "sweep.html"}
    assert experiment.artifact_location == (tmp_path / "mlartifacts").as_uri()  # beside the spec, not in the cwd
    assert sorted(p.name for p in (tmp_path / "mlartifacts").rglob("sweep.*")) == ["sweep.html", "sweep.json"]


def test_several_trackers_reach_the_trainer_and_a_missing_one_is_named(tmp_path, tiny_model_dir, monkeypatch):
    from ftspec.compiler import tracking
    from ftspec.compiler.build import render_project
    from ftspec.compiler.pipeline import check_project

    spec = project(tmp_path, tiny_model_dir)
    atomic_write_text(spec, spec.read_text(encoding="utf-8") + "tracking: [tensorboard, mlflow, wandb]\n")
    monkeypatch.setitem(tracking.TRACKERS, "wandb", (("json",), "pip install 'ftspec[wandb]'"))  # as if installed
    result = check_project(spec)
    assert [p.met for p in result.plan.decision.prerequisites if p.name == "tracking"] == [True]
    script = render_project(result, tmp_path / "build").files["train.py"]
    assert "TRACKING = ['tensorboard', 'mlflow', 'wandb']" in script
    assert 'os.environ.setdefault("WANDB_MODE", "offline")' in script  # no key: offline
    assert 'report_to=[name for name in TRACKING if name != "none"] or "none"' in script
    assert "TENSORBOARD_LOGGING_DIR" in script and "MLFLOW_TRACKING_URI" in script
    compile(script, "train.py", "exec")
    monkeypatch.setitem(tracking.TRACKERS, "mlflow", (("ftspec_no_such_tracker",), "pip install 'ftspec[mlflow]'"))
    unmet = [p for p in check_project(spec).plan.decision.blocked if p.name == "tracking"]
    assert len(unmet) == 1 and "`tracking: mlflow`" in unmet[0].hint


def test_a_tracking_uri_in_the_spec_sends_eval_sweep_and_training_there(tmp_path, tiny_model_dir):
    """`tracking: {backend: mlflow, uri: ...}`: eval's run, the sweep's parent run and train.py's MLflow callback all
    use the spec's store, not mlflow.db beside the spec (which stays the default)."""
    from mlflow import MlflowClient

    store = tmp_path / "elsewhere" / "tracking.db"
    store.parent.mkdir()
    uri = f"sqlite:///{store}"
    spec = write_project(tmp_path / "eval", [{"name": "exact_match", "threshold": ">= 0.9"}])
    body = json.loads(spec.read_text())
    body["tracking"] = ["tensorboard", {"backend": "mlflow", "uri": uri}]
    spec.write_text(json.dumps(body))
    write_run(spec.parent, rows("finetuned", ORDERS))
    result = _cli("eval", str(spec), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (spec.parent / "mlflow.db").exists()
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("crafted")
    (run,) = client.search_runs([experiment.experiment_id], filter_string="tags.`ftspec.kind` = 'run'")
    assert run.data.tags["verdict"] == json.loads(result.stdout)["verdict"] == "pass"

    swept = project(tmp_path / "sweep", tiny_model_dir, trials=1, gpu_gb=4)  # a trial that cannot fit
    text = swept.read_text(encoding="utf-8").replace("    epochs: {values: [1, 2]}\n",
                                                     "    batch_size: {values: [4096]}\n")
    atomic_write_text(swept, text + f"tracking: {{backend: mlflow, uri: '{uri}'}}\n")
    result = _cli("sweep", str(swept), "--json")
    assert result.returncode == 2, result.stdout + result.stderr
    (parent,) = client.search_runs([client.get_experiment_by_name("order-to-json").experiment_id],
                                   filter_string="tags.`ftspec.kind` = 'sweep'")
    assert parent.info.run_id == json.loads(result.stdout)["mlflow_run_id"]
    assert not (swept.parent / "mlflow.db").exists()

    checked = json.loads(_cli("check", str(swept), "--json").stdout)
    assert checked["plan"]["tracking"] == "mlflow" and checked["plan"]["tracking_uri"] == uri
    assert _cli("build", str(swept)).returncode == 0
    script = (swept.parent / "build" / "train.py").read_text(encoding="utf-8")
    assert f'os.environ.setdefault("MLFLOW_TRACKING_URI", {uri!r})' in script


def test_a_uri_is_for_mlflow_only(tmp_path):
    spec = write_project(tmp_path, [{"name": "exact_match", "threshold": ">= 0.9"}])
    body = json.loads(spec.read_text())
    body["tracking"] = {"backend": "tensorboard", "uri": "sqlite:///x.db"}
    spec.write_text(json.dumps(body))
    result = _cli("check", str(spec))
    assert result.returncode == 2 and "MLflow's tracking URI" in result.stdout + result.stderr
