"""`ftspec sweep SPEC [--resume [ID]] [--apply]`: run the spec's hyperparameter search, report it, and optionally
write the best trial's settings back into the spec."""

from __future__ import annotations

from pathlib import Path

INTERRUPTED = 130


def sweep_command(spec: Path, resume: str | None = None, apply: bool = False, as_json: bool = False) -> int:
    from ftspec.compiler.pipeline import check_project
    from ftspec.sweep.report import sweep_report, write_report
    from ftspec.sweep.study import run_sweep
    from ftspec.ui.sweep import SweepView

    result = check_project(spec)
    view = SweepView(quiet=as_json)
    outcome = run_sweep(result, view, resume=resume)
    report = sweep_report(outcome, result.loaded.spec.sweep)
    diff = None
    if apply and report["best"] and not outcome.interrupted:
        from ftspec.sweep.apply import apply_settings

        diff = apply_settings(Path(spec), report["best"]["settings"])
        report["applied"] = {"spec": str(spec), "settings": report["best"]["settings"], "diff": diff}
    write_report(outcome.folder, report)
    from ftspec.tracking import trackers

    if "mlflow" in trackers(result.loaded.spec.tracking):
        from ftspec.tracking.mlflow_log import log_sweep

        report["mlflow_run_id"] = log_sweep(result.loaded.path, result.loaded, report, outcome.folder)
    if as_json:
        from ftspec.ui.console import print_json

        print_json(report)
    else:
        from ftspec.ui.sweep import show_sweep

        show_sweep(report, diff)
        if outcome.interrupted:
            view.tell(f"interrupted; continue with `ftspec sweep {spec} --resume {outcome.folder.name}`", "warning")
    if outcome.interrupted:
        return INTERRUPTED
    return 0 if report["best"] else 2  # no trial completed: nothing fits, or every trial failed
