"""`ftspec eval SPEC [--run ID]`: score a run's predictions, gate them, write the reports, exit 0 or 1."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ftspec.errors import ExitCode
from ftspec.evals.runs import TrainLog

REPORT_FILES = ("report.json", "report.md", "junit.xml", "report.html")


def evaluate_run(loaded, run_dir: Path):
    """Score and gate one run folder: (report dict, train log, scorer) for the writers."""
    from ftspec.evals.gates import Scorer, evaluate_gates, model_table
    from ftspec.evals.metrics import MetricContext
    from ftspec.evals.overfit import detect_overfitting
    from ftspec.evals.report import build_report
    from ftspec.evals.runs import read_predictions, read_train_log, unfinished

    spec = loaded.spec
    predictions = read_predictions(run_dir)
    from ftspec.baseline.rag import system_under_test

    scorer = Scorer(spec, system_under_test(predictions.rows), MetricContext(loaded.root))
    problems = list(predictions.problems)
    if unfinished(run_dir):
        problems.insert(0, unfinished(run_dir))
    if not spec.metrics:
        problems.append("the spec declares no metrics, so there is nothing to gate on: add `metrics:` with "
                        "thresholds")
    log = read_train_log(run_dir)
    report = build_report(
        run_id=run_dir.name, spec={"name": spec.name, "path": str(loaded.path), "sha256": loaded.sha256},
        gates=evaluate_gates(scorer), models=model_table(scorer), overfitting=detect_overfitting(log),
        problems=problems, bootstrap={"samples": spec.evaluation.bootstrap_samples,
                                      "confidence": spec.evaluation.confidence, "seed": spec.training.seed})
    return report, log, scorer


def write_reports(run_dir: Path, report: dict, log: TrainLog, scorer) -> dict[str, Path]:
    from ftspec.evals.html import report_html
    from ftspec.evals.report import report_junit, report_markdown
    from ftspec.fsutil import atomic_write_text

    texts = {"report.json": json.dumps(report, indent=2) + "\n", "report.md": report_markdown(report),
             "junit.xml": report_junit(report), "report.html": report_html(report, log, scorer)}
    paths = {}
    for name in REPORT_FILES:
        paths[name] = run_dir / name
        atomic_write_text(paths[name], texts[name])
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:  # GitHub Actions shows this file on the run's page
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(texts["report.md"])
    return paths


def eval_command(spec: Path, run_id: str | None = None, as_json: bool = False) -> int:
    from ftspec.evals.runs import pick_run
    from ftspec.spec.load import load_spec

    loaded = load_spec(spec)
    run_dir = pick_run(loaded.root / "runs", run_id)
    report, log, scorer = evaluate_run(loaded, run_dir)
    paths = write_reports(run_dir, report, log, scorer)
    if as_json:
        from ftspec.ui.console import print_json

        print_json(report)
    else:
        from ftspec.ui.eval import show_eval

        show_eval(report, paths)
    return int(ExitCode.OK if report["verdict"] == "pass" else ExitCode.GATE_FAILED)
