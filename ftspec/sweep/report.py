"""The sweep's report, read back from the study alone (so a resumed sweep reports every trial): the trials table,
the best trial, parameter importances (Optuna's, from two complete trials on), and why the loop stopped."""

from __future__ import annotations

import json
from pathlib import Path

from ftspec.fsutil import atomic_write_text
from ftspec.sweep import space

REPORT_JSON = "sweep.json"
REPORT_HTML = "sweep.html"


def trial_state(trial) -> str:
    attrs = trial.user_attrs
    if attrs.get("skipped") and not attrs.get("requeued"):
        return "skipped"
    return trial.state.name.lower()  # complete, pruned, fail, running, waiting


def trial_row(trial) -> dict:
    attrs = trial.user_attrs
    return {"number": trial.number, "state": trial_state(trial), "run_id": attrs.get("run_id"),
            "settings": attrs.get("settings") or dict(trial.params), "objective": trial.value,
            "pruned_at_step": attrs.get("pruned_at_step"), "fit": attrs.get("fit"), "skipped": attrs.get("skipped"),
            "overfitting": attrs.get("overfitting"), "error": attrs.get("error")}


def shown_trials(study) -> list:
    """Every trial but those cut short by a kill and queued again (their rerun is listed instead)."""
    return [t for t in study.get_trials(deepcopy=False)
            if not (t.user_attrs.get("requeued") and not t.user_attrs.get("skipped"))
            and t.state.name != "WAITING"]


def best_row(study) -> dict | None:
    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    if not complete:
        return None
    return trial_row(study.best_trial)


def importances(study) -> dict[str, float] | None:
    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    if len(complete) < 2:
        return None
    import warnings

    import optuna

    try:
        with warnings.catch_warnings():  # "importances will be equal" on a handful of trials: the numbers say so
            warnings.simplefilter("ignore")
            found = optuna.importance.get_param_importances(study)
    except (RuntimeError, ValueError, ZeroDivisionError):  # e.g. every trial has the same settings
        return None
    return {key: round(float(value), 4) for key, value in found.items()}


def sweep_report(outcome, sweep) -> dict:
    study = outcome.study
    rows = [trial_row(t) for t in shown_trials(study)]
    counts = {state: sum(r["state"] == state for r in rows) for state in ("complete", "pruned", "skipped", "fail")}
    return {"ok": best_row(study) is not None, "sweep_id": outcome.folder.name, "sweep_dir": str(outcome.folder),
            "objective": sweep.objective, "direction": space.direction(sweep), "strategy": sweep.strategy,
            "split": "dev", "stopped": outcome.stopped, "counts": counts, "trials": rows,
            "best": best_row(study), "importances": importances(study), "curves": best_curves(study, outcome.folder)}


def best_curves(study, folder: Path, count: int = 3) -> dict[str, list[list[float]]]:
    """The dev-loss curves ([step, eval_loss] pairs) of the best complete trials, for the report's overlay."""
    from ftspec.evals.runs import read_train_log
    from ftspec.runtime.rundir import TRIALS

    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    ranked = sorted(complete, key=lambda t: t.value, reverse=study.direction.name == "MAXIMIZE")[:count]
    return {str(t.number): [[step, loss] for step, loss in read_train_log(folder / TRIALS / t.user_attrs["run_id"])
                            .eval] for t in ranked if t.user_attrs.get("run_id")}


def write_report(folder: Path, report: dict) -> Path:
    from ftspec.sweep.html import sweep_html

    atomic_write_text(folder / REPORT_JSON, json.dumps(report, indent=2, sort_keys=True) + "\n")
    atomic_write_text(folder / REPORT_HTML, sweep_html(report))
    return folder / REPORT_JSON
