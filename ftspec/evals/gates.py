"""From predictions and the spec's metrics to gates: one gate per metric spec, on the fine-tuned model.

A gate passes only when its value (or its margin over a baseline) clears the threshold AND nothing undermines
the number: no failed generations, no unparseable output, no missing field, no NaN, no empty slice, no example
without its baseline partner. Each of those fails the gate with a reason; a missing verdict is never a pass.

Sign convention for margins: margin = improvement of the fine-tuned model over the baseline, so positive is
better for every metric. For higher-is-better metrics margin = tuned - base; for lower-is-better ones
(perplexity, latency) margin = base - tuned (e.g. milliseconds saved).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from ftspec.evals.metrics import MetricContext, Scored, metric_label
from ftspec.metrics import METRICS
from ftspec.spec.gated import gated_metrics, implied_gates
from ftspec.spec.models import MetricSpec, ProjectSpec
from ftspec.spec.vocab import FIXED_SLICES
from ftspec.stats.bootstrap import margin_ci, metric_ci

TUNED = "finetuned"
MODEL_ORDER = (TUNED, "base_zero_shot", "base_few_shot")


def slice_rows(rows: list[dict], name: str) -> list[dict]:
    """all / adversarial / regression are sets of their own; any other name is a tag within the eval set."""
    if name in FIXED_SLICES:
        return [row for row in rows if row["slice"] == name]
    return [row for row in rows if row["slice"] == "all" and isinstance(row.get("tags"), list)
            and name in row["tags"]]


def generation_failed(row: dict) -> bool:
    return bool(row.get("error")) or not isinstance(row.get("prediction"), str)


@dataclass
class Cell:
    """One model's rows in one slice, scored by one metric."""

    model: str
    slice: str
    known_model: bool
    n: int
    failed: int
    first_error: str | None
    scored: Scored
    row_keys: list[str] = field(default_factory=list)  # every example in the slice, failed ones included

    def problems(self, metric: str) -> list[str]:
        who = f"`{self.model}`"
        if not self.known_model:
            return [f"no predictions for model {who}"]
        if self.n == 0:
            return [f"slice `{self.slice}` is empty for {who}"]
        found = []
        if self.failed:
            found.append(f"{self.failed} of {self.n} {who} generations failed (first error: {self.first_error})")
        s, declared = self.scored, METRICS[metric]
        if s.invalid and declared.invalid_fails_gate:  # for json_valid, invalid output is what the threshold bounds
            found.append(f"{s.invalid} of {self.n} {who} predictions are not valid JSON (counted as invalid, "
                         "not as wrong answers)")
        if s.missing:
            found.append(f"{s.missing} of {self.n} {who} rows lack {declared.row_needs}")
        if s.nan:
            found.append(f"{s.nan} of {self.n} {who} rows have NaN or infinite {declared.row_needs}")
        if len(set(s.keys)) != len(s.keys):
            found.append(f"{len(s.keys) - len(set(s.keys))} duplicate example ids for {who}")
        found.extend(f"{who}: {note}" for note in s.notes)
        value = s.value
        if value is None:
            found.append(f"no {who} example could be scored")
        elif not math.isfinite(value):
            found.append(f"the {who} value is {value} (NaN or infinite)")
        return found


@dataclass
class Gate:
    metric: str
    slice: str
    model: str
    vs_baseline: str | None
    threshold: str
    value: float | None
    ci: list[float] | None  # the CI of what is gated: the margin for a vs_baseline gate, else the value
    baseline_value: float | None
    margin: float | None
    passed: bool
    reason: str
    n: int
    wrong: int | None
    invalid: int
    failed: int
    gate_on_lower_bound: bool
    higher_is_better: bool
    label: str = ""
    problems: list[str] = field(default_factory=list)
    value_ci: list[float] | None = None
    margin_ci: list[float] | None = None
    unit: str = ""  # the metric's unit ("ms"), from its declaration
    method: str | None = None  # how the value was measured, where it matters (latency: one request at a time)
    implied_by: str | None = None  # the spec key that set this gate when `metrics` does not (max_latency_ms)

    def to_json(self) -> dict:
        return {key: _clean(value) for key, value in asdict(self).items()}


def _clean(value):
    """JSON has no NaN: a non-finite number is written as null (its gate has already failed)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


class Scorer:
    """Scores cells on demand and caches them: the gates and the per-model table share the work."""

    def __init__(self, spec: ProjectSpec, rows: list[dict], ctx: MetricContext):
        self.spec, self.ctx = spec, ctx
        self.by_model: dict[str, list[dict]] = {}
        positions: dict[tuple, int] = {}
        for row in rows:
            self.by_model.setdefault(row["model"], []).append(row)
            place = positions[(row["model"], row["slice"])] = positions.get((row["model"], row["slice"]), -1) + 1
            ident = row.get("id")
            row["_key"] = str(ident) if ident is not None else f"{row['slice']}#{place}"
        self._cells: dict[tuple, Cell] = {}

    def models(self) -> list[str]:
        known = [m for m in MODEL_ORDER if m in self.by_model]
        return known + sorted(m for m in self.by_model if m not in MODEL_ORDER)

    def cell(self, model: str, slice_name: str, metric: MetricSpec) -> Cell:
        key = (model, slice_name, metric_label(metric))
        if key not in self._cells:
            rows = slice_rows(self.by_model.get(model, []), slice_name)
            failed = [row for row in rows if generation_failed(row)]
            first = next((str(r.get("error") or "no prediction text") for r in failed), None)
            judged = [row for row in rows if not generation_failed(row)]
            scored = METRICS[metric.name].scorer()(judged, metric, self.ctx)
            self._cells[key] = Cell(model, slice_name, model in self.by_model, len(rows), len(failed),
                                    _shorten(first), scored, [row["_key"] for row in rows])
        return self._cells[key]


def _shorten(text: str | None, limit: int = 120) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def evaluate_gate(scorer: Scorer, metric: MetricSpec) -> Gate:
    spec = scorer.spec
    declared = METRICS[metric.name]
    on_bound = spec.evaluation.gate_on_lower_bound if metric.gate_on_lower_bound is None \
        else metric.gate_on_lower_bound
    samples, confidence, seed = spec.evaluation.bootstrap_samples, spec.evaluation.confidence, spec.training.seed
    tuned = scorer.cell(TUNED, metric.slice, metric)
    problems = tuned.problems(metric.name)
    value = tuned.scored.value
    baseline_value = margin = None
    value_ci = ci = metric_ci(tuned.scored, samples, confidence, seed)
    quantity = value
    if metric.vs_baseline is not None:
        base = scorer.cell(metric.vs_baseline, metric.slice, metric)
        problems += base.problems(metric.name)
        baseline_value = base.scored.value
        paired, unpaired = _pair(tuned, base)
        if unpaired:
            problems.append(unpaired)
        margin, ci = _margin(paired, declared.higher_is_better, samples, confidence, seed)
        quantity = margin
    bound = _bound(quantity, ci, metric.threshold.op, on_bound)
    passed = not problems and bound is not None and metric.threshold.passes(bound)
    reason = "; ".join(problems) if problems else ("" if passed else _miss(metric, quantity, bound, on_bound))
    s = tuned.scored
    return Gate(metric=metric.name, slice=metric.slice, model=TUNED, vs_baseline=metric.vs_baseline,
                threshold=str(metric.threshold), value=value, ci=_listed(ci),
                baseline_value=baseline_value, margin=margin, passed=passed, reason=reason, n=tuned.n,
                wrong=s.wrong, invalid=s.invalid, failed=tuned.failed, gate_on_lower_bound=on_bound,
                higher_is_better=declared.higher_is_better, label=metric_label(metric), problems=problems,
                value_ci=_listed(value_ci), margin_ci=_listed(ci) if metric.vs_baseline else None,
                unit=declared.unit, method=s.method)


def _listed(ci) -> list[float] | None:
    return list(ci) if ci else None


def _pair(tuned: Cell, base: Cell) -> tuple[tuple[Scored, Scored] | None, str | None]:
    """The examples both models were scored on, in one order; and a problem if the two sets of examples differ
    (a failed or unscored row is reported by its own cell, not here)."""
    tuned_rows, base_rows = set(tuned.row_keys), set(base.row_keys)
    only_tuned, only_base = len(tuned_rows - base_rows), len(base_rows - tuned_rows)
    problem = None
    if base.known_model and (only_tuned or only_base):
        problem = (f"the models were not run on the same examples: {only_tuned} only for the fine-tuned "
                   f"model, {only_base} only for the baseline")
    base_keys = set(base.scored.keys)
    common = [key for key in dict.fromkeys(tuned.scored.keys) if key in base_keys]
    if not common:
        return None, problem
    return (tuned.scored.subset(common), base.scored.subset(common)), problem


def _margin(paired, higher_is_better: bool, samples: int, confidence: float, seed: int):
    if paired is None:
        return None, None
    tuned, base = paired
    sign = 1.0 if higher_is_better else -1.0
    margin = sign * (tuned.value - base.value)
    return margin, margin_ci(tuned, base, higher_is_better, samples, confidence, seed)


def _bound(quantity: float | None, ci, op: str, on_bound: bool) -> float | None:
    """What the threshold is checked against: the point value, or the CI bound on the side that must clear it."""
    if quantity is None or not on_bound or op == "==":
        return quantity
    if ci is None:
        return None
    return ci[0] if op in (">=", ">") else ci[1]


def _miss(metric: MetricSpec, quantity: float | None, bound: float | None, on_bound: bool) -> str:
    what = f"margin over {metric.vs_baseline}" if metric.vs_baseline else metric_label(metric)
    if bound is None:
        return f"{what}: no value to compare with {metric.threshold}"
    if on_bound and metric.threshold.op != "==":
        side = "lower" if metric.threshold.op in (">=", ">") else "upper"
        return (f"{what}: CI {side} bound {fmt(bound)} is not {metric.threshold} "
                f"(point value {fmt(quantity)})")
    return f"{what}: {fmt(bound)} is not {metric.threshold}"


def fmt(value: float | None, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a" if value is None else str(value)
    value += 0.0  # -0.0 reads as a loss where there is none
    return f"{value:+.4g}" if signed else f"{value:.4g}"


def evaluate_gates(scorer: Scorer) -> list[Gate]:
    """The spec's gates, then those other keys imply (a latency limit the metrics do not gate themselves)."""
    gates = [evaluate_gate(scorer, metric) for metric in scorer.spec.metrics]
    for origin, metric in implied_gates(scorer.spec):
        gate = evaluate_gate(scorer, metric)
        gate.implied_by = origin
        gates.append(gate)
    return gates


def model_table(scorer: Scorer) -> dict[str, dict[str, dict[str, float | None]]]:
    """Every model's value for every gated metric on `all`, on every slice the spec gates on, and on the
    adversarial and regression sets wherever there are predictions for them (gated or not: a weak slice shows)."""
    metrics = list({metric_label(m): m for m in gated_metrics(scorer.spec)}.values())
    present = {row["slice"] for rows in scorer.by_model.values() for row in rows}
    fixed = [name for name in FIXED_SLICES if name in present]
    slices = list(dict.fromkeys(["all", *fixed, *(m.slice for m in metrics)]))
    table: dict = {}
    for model in scorer.models():
        table[model] = {s: {metric_label(m): _clean(scorer.cell(model, s, m).scored.value) for m in metrics}
                        for s in slices}
    return table
