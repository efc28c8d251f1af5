"""`ftspec eval SPEC [--run ID] [--against RUN]`: score a run, gate it (and, with --against, on no regression against
`promoted` or another run), write its reports, show the verdict; exit 1 when the gate fails."""

from __future__ import annotations

from pathlib import Path

from ftspec.errors import ExitCode


def eval_command(spec: Path, run_id: str | None = None, as_json: bool = False, against: str | None = None) -> int:
    from ftspec.evals.command import evaluate_run, write_reports
    from ftspec.runtime.rundir import Runs
    from ftspec.spec.load import load_spec

    loaded = load_spec(spec)
    run_dir = Runs.for_spec(loaded.path).pick(run_id).path
    report, log, scorer = evaluate_run(loaded, run_dir)
    if against:
        from ftspec.versions.gates import regression_gates

        regression_gates(loaded, run_dir, against, report)
    paths = write_reports(run_dir, report, log, scorer)
    track_eval(loaded, run_dir, report, list(paths.values()))
    if as_json:
        from ftspec.ui.console import print_json

        print_json(report)
    else:
        from ftspec.ui.eval import show_eval

        show_eval(report, paths)
    return int(ExitCode.OK if report["verdict"] == "pass" else ExitCode.GATE_FAILED)


def track_eval(loaded, run_dir: Path, report: dict, files: list[Path]) -> None:
    """`tracking:` naming mlflow: the scored run, its gates and reports go to MLflow too."""
    from ftspec.tracking import trackers

    if "mlflow" in trackers(loaded.spec.tracking):
        from ftspec.tracking.mlflow_log import log_eval

        log_eval(loaded.path, loaded, run_dir, report, files)
