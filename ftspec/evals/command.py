"""The stage behind `ftspec eval SPEC [--run ID]`: score a run's predictions, gate them, write the reports
(ftspec.commands.eval presents the verdict and picks the exit code)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ftspec.evals.runs import TrainLog
from ftspec.runtime.rundir import REPORT_FILES, REPORT_MARKDOWN, RunDir


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
    from ftspec.review.store import attach

    attach(run_dir, predictions.rows)  # the run's imported reviews, for the human metrics (ftspec.review)
    scorer = Scorer(spec, system_under_test(predictions.rows), MetricContext(loaded.root))
    problems = list(predictions.problems)
    if unfinished(run_dir):
        problems.insert(0, unfinished(run_dir))
    if not spec.metrics:
        problems.append("the spec declares no metrics, so there is nothing to gate on: add `metrics:` with "
                        "thresholds")
    from ftspec.review.summary import human_summary

    human, human_problems = human_summary(run_dir, spec, scorer)
    problems += human_problems
    log = read_train_log(run_dir)
    report = build_report(
        run_id=run_dir.name, spec={"name": spec.name, "path": str(loaded.path), "sha256": loaded.sha256},
        gates=evaluate_gates(scorer), models=model_table(scorer), overfitting=detect_overfitting(log),
        problems=problems, bootstrap={"samples": spec.evaluation.bootstrap_samples,
                                      "confidence": spec.evaluation.confidence, "seed": spec.training.seed})
    if human is not None:
        report["human"] = human
    from ftspec.baseline.reuse import base_sources
    from ftspec.evals.reward_curve import reward_summary

    if log.reward:  # online RL (grpo): the curve of the mean reward
        report["reward_curve"] = reward_summary(log)

    sources = base_sources(run_dir, predictions.rows)
    if sources:  # where each base model's rows came from: a baseline measurement, or this run's eval.py
        report["base_sources"] = sources
    return report, log, scorer


def write_reports(run_dir: Path, report: dict, log: TrainLog, scorer) -> dict[str, Path]:
    from ftspec.evals.html import report_html
    from ftspec.evals.report import report_junit, report_markdown
    from ftspec.fsutil import atomic_write_text

    texts = dict(zip(REPORT_FILES, (json.dumps(report, indent=2) + "\n", report_markdown(report),
                                    report_junit(report), report_html(report, log, scorer)), strict=True))
    paths = {}
    for name in REPORT_FILES:
        paths[name] = RunDir(run_dir).report(name)
        atomic_write_text(paths[name], texts[name])
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:  # GitHub Actions shows this file on the run's page
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(texts[REPORT_MARKDOWN])
    return paths
