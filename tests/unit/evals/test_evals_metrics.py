"""Each metric equals its reference library (or its definition) on fixed pairs; unparseable output is counted
apart from wrong answers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import sacrebleu
from jsonschema import Draft202012Validator
from rouge_score import rouge_scorer

from ftspec.evals.metrics import REGISTRY, MetricContext, f1_tokens, normalize_answer
from ftspec.metrics import METRICS
from ftspec.spec.models import MetricSpec

PAIRS = [  # (reference, prediction)
    ("The cat sat on the mat.", "The cat sat on the mat."),
    ("A quick brown fox jumps over the lazy dog", "quick brown foxes jumped over a lazy dog"),
    ("Paris is the capital of France", "The capital of France is Paris"),
    ("order 3 red mugs", "order three red mugs please"),
    ("nothing in common", "entirely different words"),
]


def rows_of(pairs, **extra):
    return [{"model": "finetuned", "slice": "all", "id": f"e{i}", "reference": ref, "prediction": pred, **extra}
            for i, (ref, pred) in enumerate(pairs)]


def score(name: str, rows, root: Path = Path("."), **fields):
    metric = MetricSpec(name=name, threshold=">= 0", **fields)
    return REGISTRY[name](rows, metric, MetricContext(root))


def test_registry_covers_every_metric_the_spec_accepts():
    assert set(REGISTRY) == set(METRICS)


def test_exact_match_trims_whitespace_only():
    rows = rows_of([("yes", " yes\n"), ("Yes", "yes"), ("no", "no")])
    scored = score("exact_match", rows)
    assert scored.per_example.tolist() == [1.0, 0.0, 1.0]
    assert scored.value == pytest.approx(2 / 3)
    assert scored.wrong == 1 and scored.invalid == 0


def test_token_f1_follows_squad_normalisation():
    assert normalize_answer("The  Cat, sat!") == "cat sat"
    # "the cat sat" -> [cat, sat]; "a cat sat down" -> [cat, sat, down]: precision 1, recall 2/3
    precision, recall = 1.0, 2 / 3
    assert f1_tokens("the cat sat", "a cat sat down") == pytest.approx(2 * precision * recall / (precision + recall))
    assert f1_tokens("", "") == 1.0 and f1_tokens("", "x") == 0.0
    scored = score("token_f1", rows_of(PAIRS))
    assert scored.per_example.tolist() == pytest.approx([f1_tokens(p, r) for r, p in PAIRS])


def test_rouge_l_equals_rouge_score():
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    expected = [scorer.score(ref, pred)["rougeL"].fmeasure for ref, pred in PAIRS]
    scored = score("rouge_l", rows_of(PAIRS))
    assert scored.per_example.tolist() == pytest.approx(expected)
    assert scored.value == pytest.approx(sum(expected) / len(expected))


@pytest.mark.parametrize("name, reference", [("bleu", sacrebleu.corpus_bleu), ("chrf", sacrebleu.corpus_chrf)])
def test_corpus_metrics_equal_sacrebleu(name, reference):
    refs, preds = [r for r, _ in PAIRS], [p for _, p in PAIRS]
    expected = reference(preds, [refs]).score
    scored = score(name, rows_of(PAIRS))
    assert scored.value == pytest.approx(expected)
    assert scored.per_example is None  # corpus-level: no per-example score to average


def test_json_valid_counts_unparseable_output_as_invalid_not_wrong():
    rows = rows_of([("", '{"a": 1}'), ("", "{'a': 1}"), ("", "[1, 2]"), ("", "Sure! {\"a\": 1}")])
    scored = score("json_valid", rows)
    assert scored.invalid == 2 and scored.wrong == 0
    assert scored.value == pytest.approx(2 / 4)


def test_json_schema_equals_jsonschema_and_separates_invalid_from_wrong(tmp_path):
    schema = {"type": "object", "required": ["item", "qty"],
              "properties": {"item": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}}}
    (tmp_path / "order.schema.json").write_text(json.dumps(schema))
    outputs = ['{"item": "mug", "qty": 2}', '{"item": "mug", "qty": 0}', '{"item": "mug"}', "not json",
               '{"item": "cup", "qty": 1}']
    rows = rows_of([("", out) for out in outputs])
    validator = Draft202012Validator(schema)
    expected = []
    for out in outputs:
        try:
            expected.append(float(validator.is_valid(json.loads(out))))
        except ValueError:
            expected.append(0.0)
    for given in ("order.schema.json", schema):  # a path relative to the spec, or inline
        scored = score("json_schema", rows, tmp_path, schema=given)
        assert scored.per_example.tolist() == expected
        assert scored.invalid == 1  # "not json"
        assert scored.wrong == expected.count(0.0) - 1  # schema violations only


def test_regex_fullmatches_and_contains_finds_a_substring():
    rows = rows_of([("", "ORD-1234"), ("", "ORD-12345 extra"), ("", "  ORD-0001\n"), ("", "ord-1")])
    assert score("regex", rows, pattern=r"ORD-\d{4}").per_example.tolist() == [1.0, 0.0, 1.0, 0.0]
    assert score("contains", rows, pattern="ORD-").per_example.tolist() == [1.0, 1.0, 1.0, 0.0]


def test_perplexity_is_exp_of_total_nll_over_total_tokens():
    nlls, tokens = [3.0, 10.5, 0.7], [4, 12, 1]
    rows = [{"prediction": "x", "nll": n, "ref_tokens": t, "id": i}
            for i, (n, t) in enumerate(zip(nlls, tokens, strict=True))]
    scored = score("perplexity", rows)
    assert scored.value == pytest.approx(math.exp(sum(nlls) / sum(tokens)))


def test_perplexity_counts_rows_without_nll_as_missing():
    rows = [{"prediction": "x", "nll": 1.0, "ref_tokens": 2}, {"prediction": "x", "nll": None, "ref_tokens": None}]
    scored = score("perplexity", rows)
    assert scored.missing == 1 and len(scored.keys) == 1


def test_latency_percentiles_equal_numpy():
    latencies = [12.0, 40.5, 7.25, 300.0, 55.0, 41.0, 39.0]
    rows = [{"prediction": "x", "latency_ms": v, "id": i} for i, v in enumerate(latencies)]
    assert score("latency_p50", rows).value == pytest.approx(np.percentile(latencies, 50))
    assert score("latency_p95", rows).value == pytest.approx(np.percentile(latencies, 95))


def test_nan_latency_is_counted_not_averaged():
    rows = [{"prediction": "x", "latency_ms": 10.0}, {"prediction": "x", "latency_ms": float("nan")}]
    scored = score("latency_p50", rows)
    assert scored.nan == 1 and scored.value == 10.0


def test_latency_reads_only_the_rows_timed_one_request_at_a_time():
    rows = [{"prediction": "x", "latency_ms": None, "timed": False, "id": "a"},
            {"prediction": "x", "latency_ms": 30.0, "timed": True, "id": "b"},
            {"prediction": "x", "latency_ms": 50.0, "timed": True, "id": "c"},
            {"prediction": "x", "latency_ms": None, "timed": True, "id": "d"}]
    scored = score("latency_p50", rows)
    assert scored.keys == ["b", "c"] and scored.value == 40.0
    assert scored.missing == 1  # timed, yet no number: that one is missing; the untimed row is not
    assert scored.method == "per request at batch size 1, on a seeded sample of 3 of 4 rows"


def test_a_missing_reference_is_missing_not_wrong():
    rows = rows_of([("a", "a")]) + [{"prediction": "a", "reference": None, "id": "x"}]
    for name in ("exact_match", "token_f1", "rouge_l", "bleu", "chrf"):
        scored = score(name, rows)
        assert scored.missing == 1 and len(scored.keys) == 1, name
