"""One declaration per metric: what it means (direction, range, unit) is read by the spec, the audit and eval from
ftspec.metrics, which `check` imports without any scorer library; docs/spec.md shows the same table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ftspec.evals.metrics import REGISTRY
from ftspec.metrics import METRICS, metrics_markdown
from ftspec.spec.gated import MAX_LATENCY, gated_metrics, implied_gates
from ftspec.spec.models import ProjectSpec
from ftspec.spec.threshold import parse_threshold

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name, better, low, high, unit", [
    ("exact_match", "higher", 0, 1, ""), ("rouge_l", "higher", 0, 1, ""), ("bleu", "higher", 0, 100, ""),
    ("perplexity", "lower", 1, None, ""), ("latency_p95", "lower", 0, None, "ms"),
])
def test_a_declaration_holds_direction_range_and_unit(name, better, low, high, unit):
    m = METRICS[name]
    assert (m.direction, m.low, m.high, m.unit) == (better, low, high, unit)


def test_every_declared_metric_has_a_scorer():
    assert set(REGISTRY) == set(METRICS)
    assert all(callable(REGISTRY[name]) for name in METRICS)


def test_the_declarations_import_no_scorer_library():
    probe = ("import sys, json; from ftspec.spec.load import load_spec; from ftspec.metrics import METRICS; "
             "[(m.range_text(), m.direction, m.unit) for m in METRICS.values()]; "
             "print(json.dumps(sorted(k for k in ('numpy', 'rouge_score', 'sacrebleu', 'jsonschema') "
             "if k in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO)
    assert json.loads(out.stdout) == []


def test_docs_show_the_registry_table():
    assert metrics_markdown() in (REPO / "docs" / "spec.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("raw, op, value, unit", [
    ("<= 2 s", "<=", 2000.0, "ms"), ("<=300ms", "<=", 300.0, "ms"), ("< 0.25 seconds", "<", 250.0, "ms"),
    (">= 90%", ">=", 0.9, "%"), ("<= 300", "<=", 300.0, ""),
])
def test_threshold_units_are_kept_and_times_are_milliseconds(raw, op, value, unit):
    t = parse_threshold(raw)
    assert (t.op, t.value, t.unit) == (op, pytest.approx(value), unit)


def test_an_unknown_unit_gets_a_specific_hint():
    with pytest.raises(ValueError, match="unknown unit `minutes`.*latency is in milliseconds"):
        parse_threshold("<= 2 minutes")


def spec_with(metrics: list[dict], **constraints) -> ProjectSpec:
    return ProjectSpec.model_validate({
        "ftspec": 1, "name": "p", "data": {"format": "prompt_completion", "train": "t.jsonl"},
        "models": [{"name": "m", "hub": "o/m", "params": "1B"}], "metrics": metrics,
        "requirements": {"constraints": constraints}})


def test_max_latency_becomes_a_latency_gate():
    spec = spec_with([{"name": "exact_match", "threshold": ">= 0.9"}], max_latency_ms=250)
    [(origin, gate)] = implied_gates(spec)
    assert origin == MAX_LATENCY == "requirements.constraints.max_latency_ms"
    assert (gate.name, str(gate.threshold), gate.slice) == ("latency_p95", "<= 250", "all")
    assert [m.name for m in gated_metrics(spec)] == ["exact_match", "latency_p95"]


@pytest.mark.parametrize("own, implied", [
    ({"name": "latency_p50", "threshold": "<= 0.1 s"}, 0),  # the spec gates latency itself
    ({"name": "latency_p95", "vs_baseline": "base_zero_shot", "threshold": ">= 0"}, 1),  # a margin bounds no limit
])
def test_a_latency_gate_of_the_spec_replaces_the_implied_one(own, implied):
    assert len(implied_gates(spec_with([own], max_latency_ms=250))) == implied


def test_no_limit_no_implied_gate():
    assert implied_gates(spec_with([{"name": "exact_match", "threshold": ">= 0.9"}])) == []


def test_the_json_schema_accepts_every_unit_the_parser_does():
    import re

    from ftspec.spec.models import _THRESHOLD_PATTERN
    from ftspec.spec.threshold import UNITS

    assert all(re.match(_THRESHOLD_PATTERN, f"<= 3 {unit}") for unit in UNITS)
    assert not re.match(_THRESHOLD_PATTERN, "<= 3 minutes")
