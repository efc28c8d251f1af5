"""Output health and quality: the spec's gated metrics scored on production rows by the metric registry's scorers.

- health: reference-free metrics that judge each output alone (json_valid, json_schema, regex, contains), and
  latency (latency_p50/p95, or the latency_p95 gate that requirements.constraints.max_latency_ms implies);
- quality: metrics that need a reference (exact_match, token_f1, rouge_l, bleu, chrf) where references are logged,
  and the users' feedback (a rating mapped onto 0-1) where it is logged.
A window keeps running sums and a bounded reservoir of each metric's per-example statistics: the value of a mean is
exact; a corpus metric, a percentile and every CI come from the reservoir (exact while the window fits in it).
"""

from __future__ import annotations

from dataclasses import dataclass

from ftspec.metrics import METRICS, Metric
from ftspec.monitor.drift import Reservoir
from ftspec.spec.gated import implied_gates

RESERVOIR = 5_000  # per-example statistics kept per metric and window, for CIs and corpus scores
LATENCY_RESERVOIR = 20_000


@dataclass
class Tracked:
    label: str
    spec: object  # MetricSpec
    metric: Metric
    kind: str  # health | latency | quality
    spec_path: tuple  # where its threshold is written

    @property
    def per_row(self) -> bool:
        return self.kind == "health"


def tracked_metrics(spec) -> tuple[list[Tracked], list[str]]:
    """The gated metrics the monitor can score on production rows, and notes on those it cannot."""
    from ftspec.evals.metrics import metric_label

    out, notes, seen = [], [], set()
    gates = [((("metrics", i)), m) for i, m in enumerate(spec.metrics)]
    gates += [(tuple(path.split(".")), m) for path, m in implied_gates(spec)]
    for path, metric_spec in gates:
        label = metric_label(metric_spec)
        metric = METRICS[metric_spec.name]
        if metric_spec.vs_baseline is not None or label in seen:
            continue
        if metric_spec.slice != "all":
            notes.append(f"{label} on slice `{metric_spec.slice}`: production has no slices; judged on all rows")
            continue
        if metric.unit == "ms":
            kind = "latency"
        elif metric.fields == ("prediction",):
            kind = "health"
        elif "reference" in metric.fields:
            kind = "quality"
        else:
            notes.append(f"{label} reads {', '.join(metric.fields)}, which production logs do not carry")
            continue
        seen.add(label)
        out.append(Tracked(label, metric_spec, metric, kind, path))
    return out, notes


class MetricWindow:
    """One metric in one window: judged rows, the sum of per-example scores, a reservoir of stats."""

    def __init__(self, seed: int):
        self.n = 0
        self.total = 0.0
        self.stats = Reservoir(RESERVOIR, seed)

    def add(self, stats_rows, per_example=None) -> None:
        self.n += len(stats_rows)
        if per_example is not None:
            self.total += float(sum(per_example))
        self.stats.extend([tuple(row) for row in stats_rows])

    def summary(self, aggregate, mean: bool, bootstrap: dict) -> dict:
        import numpy as np

        from ftspec.stats.bootstrap import bootstrap_ci

        if self.n == 0:
            return {"n": 0, "value": None, "ci": None}
        stats = np.asarray(self.stats.items, dtype=float)
        value = self.total / self.n if mean else float(aggregate(stats))
        ci = bootstrap_ci(stats, aggregate, bootstrap["samples"], bootstrap["confidence"], bootstrap["seed"])
        return {"n": self.n, "value": value, "ci": None if ci is None else list(ci),
                "sampled": not self.stats.complete}


def score_batch(tracked: list[Tracked], rows: list, ctx) -> dict[str, tuple[list[int], object]]:
    """label -> (row positions judged, Scored) for the per-row health and quality metrics on a batch. A health
    metric judges each distinct output once (production repeats its answers) and the scores are spread back."""
    out, outputs, referenced = {}, None, None
    for item in tracked:
        if item.kind == "health":
            if outputs is None:
                distinct = list(dict.fromkeys(row.output for row in rows))
                outputs = [{"prediction": text, "_key": str(i)} for i, text in enumerate(distinct)]
                where = {text: i for i, text in enumerate(distinct)}
                spread = [where[row.output] for row in rows]
            scored = item.metric.scorer()(outputs, item.spec, ctx)
            out[item.label] = _spread(scored, spread)
        elif item.kind == "quality":
            if referenced is None:
                referenced = [{"prediction": row.output, "reference": row.reference, "_key": str(i)}
                              for i, row in enumerate(rows) if row.reference is not None]
            if referenced:
                scored = item.metric.scorer()(referenced, item.spec, ctx)
                out[item.label] = ([int(key) for key in scored.keys], scored)
    return out


def _spread(scored, spread: list[int]) -> tuple[list[int], object]:
    """A Scored over distinct outputs, back onto the batch's rows (each row gets its output's score)."""
    import numpy as np

    position = {int(key): k for k, key in enumerate(scored.keys)}
    judged = [i for i, d in enumerate(spread) if d in position]
    index = np.asarray([position[spread[i]] for i in judged], dtype=np.int64)
    per = None if scored.per_example is None else scored.per_example[index]
    return judged, SimpleScored(scored.stats[index], per)


@dataclass
class SimpleScored:
    stats: object
    per_example: object


def latency_value(tracked: Tracked, values: list[float], ctx) -> dict:
    """The latency metric on a window's reservoir of latencies (every row a timed request)."""
    rows = [{"prediction": "", "latency_ms": v, "timed": True} for v in values]
    if not rows:
        return {"n": 0, "value": None}
    scored = tracked.metric.scorer()(rows, tracked.spec, ctx)
    return {"n": len(rows), "value": scored.value}


def mean_aggregate(x):
    return x[..., 0].mean(axis=-1)
