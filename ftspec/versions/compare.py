"""The stage behind `ftspec compare RUN_A RUN_B`: the fine-tuned model of run B against run A's, row by row on the
same eval set (ftspec.commands.compare presents it).

Rows are paired by (slice, id). Two runs are comparable only when they scored the same examples against the same
references: each run's eval set is fingerprinted by (slice, id, reference), and a difference is refused unless the
user asks for the intersection. Every (metric, slice) gets both values with bootstrap CIs, the paired difference
B - A with its CI, the right paired test's p-value (ftspec.stats.paired) and Holm's correction across all of them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from ftspec.errors import UsageError
from ftspec.runtime.rundir import RunDir

COMPARE_HTML = "compare.html"  # written into the newer run's folder
ROWS_SHOWN = 200  # changed rows kept in the JSON; the worst come first
TEXT_LIMIT = 2000  # characters of a prompt or output kept per changed row


@dataclass
class RunScores:
    """One run's fine-tuned predictions, scored by the spec's metrics."""

    run_dir: Path
    scorer: object
    rows: dict[tuple[str, str], dict]  # (slice, key) -> predictions row, fine-tuned model only
    problems: list[str] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        return self.run_dir.name


def load_run(loaded, run: RunDir) -> RunScores:
    from ftspec.evals.gates import TUNED, Scorer
    from ftspec.evals.metrics import MetricContext
    from ftspec.evals.runs import read_predictions

    run_dir = run.path
    predictions = read_predictions(run_dir)
    scorer = Scorer(loaded.spec, predictions.rows, MetricContext(loaded.root))
    tuned = scorer.by_model.get(TUNED, [])
    rows = {(row["slice"], row["_key"]): row for row in tuned}
    if len(rows) < len(tuned):
        raise UsageError(f"run {run_dir.name} has {len(tuned) - len(rows)} fine-tuned rows whose (slice, id) repeats "
                         "an earlier row", "rows are paired by id: give every example of a set its own `id`")
    if not rows:
        raise UsageError(f"run {run_dir.name} has no predictions of the fine-tuned model",
                         "its eval step wrote none: rerun it with `ftspec run SPEC --resume ID`")
    return RunScores(run_dir, scorer, rows, list(predictions.problems))


def _row_print(row: dict) -> str:
    return hashlib.sha256(json.dumps([row.get("reference"), row.get("slice")]).encode()).hexdigest()


def eval_set_sha256(run: RunScores) -> str:
    """One hash for the examples a run was scored on: (slice, id, reference) of every fine-tuned row."""
    digest = hashlib.sha256()
    for key in sorted(run.rows):
        digest.update(json.dumps([*key, _row_print(run.rows[key])]).encode())
    return digest.hexdigest()


def eval_set_difference(a: RunScores, b: RunScores) -> dict:
    only_a = [k for k in a.rows if k not in b.rows]
    only_b = [k for k in b.rows if k not in a.rows]
    changed = [k for k in a.rows if k in b.rows and _row_print(a.rows[k]) != _row_print(b.rows[k])]
    shared = [k for k in a.rows if k in b.rows and k not in set(changed)]
    return {"same": not (only_a or only_b or changed), "only_a": len(only_a), "only_b": len(only_b),
            "changed_reference": len(changed), "shared": len(shared),
            "examples": [f"{s}/{i}" for s, i in (only_a + only_b + changed)[:5]], "_shared": set(shared)}


def comparison_plan(spec) -> list[tuple[object, str]]:
    """(metric, slice) pairs to compare: every metric of the spec on every slice it gates and on `all`, plus the
    adversarial and regression sets where the spec names them."""
    from ftspec.evals.metrics import metric_label

    metrics = list({metric_label(m): m for m in spec.metrics}.values())
    slices = ["all"] + [name for name in ("adversarial", "regression") if getattr(spec.data, name)]
    slices += [m.slice for m in spec.metrics]
    return [(m, s) for s in dict.fromkeys(slices) for m in metrics]


def compare_runs(loaded, run_a: RunDir, run_b: RunDir, *, intersection: bool = False) -> dict:
    from ftspec.versions.pairing import compare_cells

    if not loaded.spec.metrics:
        raise UsageError("the spec declares no metrics, so there is nothing to compare",
                         "add `metrics:` with thresholds")
    a, b = load_run(loaded, run_a), load_run(loaded, run_b)
    sets = eval_set_difference(a, b)
    shared = sets.pop("_shared")
    if not sets["same"] and not intersection:
        raise UsageError(
            f"runs {a.run_id} and {b.run_id} were scored on different eval sets: {sets['only_a']} examples only in "
            f"A, {sets['only_b']} only in B, {sets['changed_reference']} with another reference (e.g. "
            f"{', '.join(sets['examples'])})",
            "compare runs of the same eval data, or pass --intersection to compare the examples both share")
    evaluation = loaded.spec.evaluation
    settings = {"confidence": evaluation.confidence, "samples": evaluation.bootstrap_samples,
                "seed": loaded.spec.training.seed}
    metrics, changed, total = compare_cells(a, b, comparison_plan(loaded.spec), shared, settings)
    return {
        "a": {"run_id": a.run_id, "eval_set_sha256": eval_set_sha256(a), "rows": len(a.rows), "problems": a.problems},
        "b": {"run_id": b.run_id, "eval_set_sha256": eval_set_sha256(b), "rows": len(b.rows), "problems": b.problems},
        "eval_set": {**sets, "intersection": not sets["same"]},
        **settings,
        "alpha": round(1 - evaluation.confidence, 10),
        "summary": {kind: sum(m["change"] == kind for m in metrics) for kind in ("better", "worse", "no change")},
        "metrics": metrics,
        "changed_rows": changed,
        "changed_rows_total": total,
    }


def compare_project(spec: Path | None, ref_a: str, ref_b: str, *, intersection: bool = False,
                    markdown: Path | None = None) -> dict:
    """`ftspec compare`: the comparison, its HTML page written into the newer run's folder (its path in the result
    as `html`) and, with `markdown`, the Markdown text written there."""
    from ftspec.spec.load import load_spec
    from ftspec.versions.refs import find_spec, resolve_run

    loaded = load_spec(find_spec(spec))
    run_a, run_b = resolve_run(loaded, ref_a), resolve_run(loaded, ref_b)
    result = compare_runs(loaded, run_a, run_b, intersection=intersection)
    write_comparison(result, max(run_a, run_b, key=lambda run: run.id), markdown)
    return result


def write_comparison(result: dict, newer: RunDir, markdown: Path | None) -> None:
    from ftspec.fsutil import atomic_write_text
    from ftspec.versions.text import compare_html, compare_markdown

    html_path = newer.path / COMPARE_HTML
    atomic_write_text(html_path, compare_html(result))
    result["html"] = str(html_path)
    if markdown is not None:
        atomic_write_text(Path(markdown), compare_markdown(result))
