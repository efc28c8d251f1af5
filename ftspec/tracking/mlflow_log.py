"""MLflow: a local SQLite store beside the spec by default (mlflow.db, artifacts in mlartifacts/), or the server in
MLFLOW_TRACKING_URI. One experiment per project (the spec's name); `ftspec eval` logs a run named after the ftspec
run (the spec hash, the decision and its reasons, hyperparameters, metrics with CIs, gate verdicts, the reports);
`ftspec sweep` logs a parent run with each trial as a child run (settings, objective, state)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

STORE = "mlflow.db"
ARTIFACTS = "mlartifacts"
PARENT_TAG = "mlflow.parentRunId"


def local_store(spec_path: Path) -> str:
    return f"sqlite:///{Path(spec_path).resolve().parent / STORE}"


def tracking_uri(spec_path: Path, tracking=None) -> str:
    """MLFLOW_TRACKING_URI, else the spec's (`tracking: {backend: mlflow, uri: ...}`), else the local store."""
    from ftspec.tracking import configured_uri

    configured = configured_uri(tracking) if tracking is not None else None
    return os.environ.get("MLFLOW_TRACKING_URI") or configured or local_store(spec_path)


def _client(spec_path: Path, tracking=None):
    import logging

    from mlflow import MlflowClient

    logging.getLogger("mlflow").setLevel(logging.WARNING)  # "Creating initial MLflow database tables..."
    return MlflowClient(tracking_uri=tracking_uri(spec_path, tracking))


def _experiment(client, name: str, spec_path: Path, tracking=None) -> str:
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    # the local store keeps its artifacts beside it (MLflow's default is ./mlruns in whatever folder ftspec runs in);
    # a server chooses its own
    local = tracking_uri(spec_path, tracking) == local_store(spec_path)
    location = (Path(spec_path).resolve().parent / ARTIFACTS).as_uri() if local else None
    return client.create_experiment(name, artifact_location=location)


def _batch(client, run_id: str, metrics: dict | None = None, params: dict | None = None,
           tags: dict | None = None) -> None:
    from mlflow.entities import Metric, Param, RunTag

    now = int(time.time() * 1000)
    metrics = [Metric(k[:250], float(v), now, 0) for k, v in (metrics or {}).items() if isinstance(v, (int, float))]
    params = [Param(k[:250], str(v)[:6000]) for k, v in (params or {}).items()]
    tags = [RunTag(k[:250], str(v)[:5000]) for k, v in (tags or {}).items()]
    for start in range(0, max(len(metrics), len(params), len(tags), 1), 100):  # MLflow caps a batch's params at 100
        client.log_batch(run_id, metrics=metrics[start:start + 100], params=params[start:start + 100],
                         tags=tags[start:start + 100])


def _eval_metrics(report: dict) -> tuple[dict, dict]:
    """(metrics, tags): each gate's value and CI bounds, its verdict as 1/0 and as a tag."""
    metrics, tags = {}, {"verdict": report.get("verdict")}
    for index, gate in enumerate(report.get("gates") or []):
        name = f"{gate.get('metric', 'gate')}.{gate.get('slice', 'all')}"
        if gate.get("vs_baseline"):
            name += f".vs_{gate['vs_baseline']}"
        for key in ("value", "baseline_value", "margin"):
            if isinstance(gate.get(key), (int, float)):
                metrics[f"{name}.{key}"] = gate[key]
        for key in ("ci", "value_ci", "margin_ci"):  # [low, high] at the spec's confidence
            bounds = gate.get(key)
            if isinstance(bounds, list) and len(bounds) == 2:
                metrics[f"{name}.{key}_low"], metrics[f"{name}.{key}_high"] = bounds
        passed = gate.get("passed")
        if isinstance(passed, bool):
            metrics[f"gate.{name}.passed"] = int(passed)
            tags[f"gate.{index}.{name}"] = "pass" if passed else "fail"
    for model, slices in (report.get("models") or {}).items():  # the fine-tuned model and its baselines
        for slice_name, values in (slices or {}).items():
            for metric, value in (values or {}).items():
                if isinstance(value, (int, float)):
                    metrics[f"models.{model}.{slice_name}.{metric}"] = value
    return metrics, tags


def log_eval(spec_path: Path, loaded, run_dir: Path, report: dict, report_files: list[Path]) -> str:
    """Log one scored run; returns the MLflow run id."""
    from ftspec.compiler.pipeline import check_project

    client = _client(spec_path, loaded.spec.tracking)
    experiment = _experiment(client, loaded.spec.name, spec_path, loaded.spec.tracking)
    plan = check_project(spec_path).plan
    hp = plan.hyperparameters.model_dump(mode="json", exclude={"reasons"}) if plan.hyperparameters else {}
    run = client.create_run(experiment, run_name=Path(run_dir).name,
                            tags={"ftspec.kind": "run", "ftspec.run_id": Path(run_dir).name})
    metrics, tags = _eval_metrics(report)
    tags.update({"spec_sha256": loaded.sha256, "approach": plan.decision.approach, "method": plan.method or "",
                 "model": plan.model.name if plan.model else ""})
    _batch(client, run.info.run_id, metrics, {k: json.dumps(v) if isinstance(v, (dict, list)) else v
                                              for k, v in hp.items()}, tags)
    decision = {"approach": plan.decision.approach, "reasons": [r.text for r in plan.decision.reasons]}
    client.log_text(run.info.run_id, json.dumps(decision, indent=2), "decision.json")
    for path in report_files:
        if Path(path).is_file():
            client.log_artifact(run.info.run_id, str(path))
    client.set_terminated(run.info.run_id, "FINISHED")
    return run.info.run_id


def log_sweep(spec_path: Path, loaded, report: dict, folder: Path) -> str:
    """A parent run for the sweep, a child run per trial; returns the parent's id."""
    client = _client(spec_path, loaded.spec.tracking)
    experiment = _experiment(client, loaded.spec.name, spec_path, loaded.spec.tracking)
    parent = client.create_run(experiment, run_name=f"sweep {report['sweep_id']}",
                               tags={"ftspec.kind": "sweep", "spec_sha256": loaded.sha256})
    best = report.get("best") or {}
    _batch(client, parent.info.run_id, {f"best.{report['objective']}": best.get("objective")},
           {f"best.{k}": v for k, v in (best.get("settings") or {}).items()},
           {"strategy": report["strategy"], "direction": report["direction"], "stopped": report["stopped"]})
    for row in report["trials"]:
        child = client.create_run(experiment, run_name=f"trial {row['number']}",
                                  tags={PARENT_TAG: parent.info.run_id, "ftspec.kind": "trial"})
        _batch(client, child.info.run_id, {report["objective"]: row["objective"]}, row["settings"],
               {"state": row["state"], "ftspec.run_id": row["run_id"] or "", "note": row.get("skipped") or ""})
        client.set_terminated(child.info.run_id, "FINISHED" if row["state"] == "complete" else "KILLED")
    for name in ("sweep.json", "sweep.html"):
        if (folder / name).is_file():
            client.log_artifact(parent.info.run_id, str(folder / name))
    client.set_terminated(parent.info.run_id, "FINISHED")
    return parent.info.run_id
