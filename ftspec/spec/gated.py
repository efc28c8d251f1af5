"""Gates that other spec keys imply, beside the ones `metrics` lists.

`requirements.constraints.max_latency_ms` is a promise about latency; unless the spec gates latency itself (an
absolute latency metric, not a margin over a baseline), it becomes the gate `latency_p95 <= max_latency_ms` on the
eval set, so a limit written down is also checked."""

from __future__ import annotations

from ftspec.metrics import METRICS
from ftspec.spec.models import MetricSpec, ProjectSpec
from ftspec.spec.threshold import Threshold

MAX_LATENCY = "requirements.constraints.max_latency_ms"


def implied_gates(spec: ProjectSpec) -> list[tuple[str, MetricSpec]]:
    """(the spec key it comes from, the gate) for each implied gate."""
    limit = spec.requirements.constraints.max_latency_ms
    from ftspec.compiler.methods import named_objective

    objective = named_objective(spec.method)
    if objective is not None and not objective.generates:  # a reward model scores pairs: no generation to time
        return []
    if limit is None or any(METRICS[m.name].unit == "ms" and m.vs_baseline is None for m in spec.metrics):
        return []
    return [(MAX_LATENCY, MetricSpec(name="latency_p95", threshold=Threshold(op="<=", value=float(limit))))]


def gated_metrics(spec: ProjectSpec) -> list[MetricSpec]:
    """Every metric eval will gate: the spec's own and the implied ones."""
    return [*spec.metrics, *(metric for _, metric in implied_gates(spec))]
