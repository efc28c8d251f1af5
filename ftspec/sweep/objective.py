"""A metric objective: the trial's model predicts the dev split (`eval.py --dev --models finetuned`, in the trial's
run folder), scored here with the metric registry as `ftspec eval` scores the eval set. The eval set is not read."""

from __future__ import annotations

from pathlib import Path

from ftspec.runtime import buildstep
from ftspec.runtime.launch import run_child
from ftspec.runtime.rundir import RunDir

DEV_SLICE = "dev"


def predict_dev(build: Path, run_dir: RunDir, on_start, launch=run_child) -> int:
    """`launch` is run_child, or a fork server's run (the libraries imported once for every trial)."""
    argv = buildstep.script_argv(build, "eval.py", ["--output-dir", str(run_dir.path), "--dev",
                                                    "--models", "finetuned"])
    return launch(argv, cwd=build, log_path=run_dir.log("eval"), on_start=on_start).returncode


def dev_metric(loaded, run_dir: RunDir, name: str) -> float | None:
    """The metric's value on the trial's dev predictions (its spec entry's pattern or schema apply)."""
    from ftspec.evals.gates import TUNED, Scorer
    from ftspec.evals.metrics import MetricContext
    from ftspec.evals.runs import read_predictions

    declared = [m for m in loaded.spec.metrics if m.name == name]
    metric = next((m for m in declared if m.vs_baseline is None), declared[0])
    metric = metric.model_copy(update={"slice": "all", "vs_baseline": None})
    rows = [{**row, "slice": "all"} for row in read_predictions(run_dir.path).rows if row.get("slice") == DEV_SLICE]
    return Scorer(loaded.spec, rows, MetricContext(loaded.root)).cell(TUNED, "all", metric).scored.value
