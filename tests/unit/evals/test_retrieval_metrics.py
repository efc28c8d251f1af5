"""Retrieval metrics against values worked out by hand, and through the scorer as `ftspec eval` runs it."""

from __future__ import annotations

import pytest

from ftspec.evals.metrics import REGISTRY, MetricContext
from ftspec.evals.retrieval_metrics import cites_retrieved, ranked_documents, recall_at_k, reciprocal_rank
from ftspec.spec.models import MetricSpec


def test_recall_at_k_by_hand():
    retrieved = ["a", "b", "c", "d"]
    assert recall_at_k(retrieved, ["b", "x"]) == 0.5  # one of two gold documents found
    assert recall_at_k(retrieved, ["d"], k=3) == 0.0  # found, but below the cut
    assert recall_at_k(retrieved, ["d"], k=4) == 1.0
    assert recall_at_k(["a", "a", "b"], ["a", "b"], k=2) == 1.0  # a document with two passages counts once
    with pytest.raises(ValueError):
        recall_at_k(retrieved, [])


def test_reciprocal_rank_by_hand():
    assert reciprocal_rank(["a", "b", "c"], ["c"]) == pytest.approx(1 / 3)
    assert reciprocal_rank(["a", "b", "c"], ["b", "c"]) == 0.5  # the first gold document counts
    assert reciprocal_rank(["a", "a", "b"], ["b"]) == 0.5  # ranked by document, not by passage
    assert reciprocal_rank(["a"], ["z"]) == 0.0
    assert ranked_documents(["x", "y", "x", "z"]) == ["x", "y", "z"]


def test_cites_by_hand():
    assert cites_retrieved("See [kb/a] for more.", ["kb/b", "kb/a"]) == 1.0
    assert cites_retrieved("See [kb/c].", ["kb/a"]) == 0.0  # cites a document it was not given
    assert cites_retrieved("See kb/a.", ["kb/a"]) == 0.0  # an id without brackets is no citation


def rows() -> list[dict]:
    return [
        {"id": "1", "prediction": "x [d1]", "retrieved": ["d1", "d2"], "gold_documents": ["d1"]},
        {"id": "2", "prediction": "y", "retrieved": ["d3", "d2"], "gold_documents": ["d2"]},
        {"id": "3", "prediction": "z [d9]", "retrieved": ["d4", "d5"], "gold_documents": ["d6"]},
        {"id": "4", "prediction": "w", "retrieved": ["d1"], "gold_documents": None},  # no gold: not scored
    ]


@pytest.mark.parametrize(("name", "value", "missing"), [
    ("recall_at_k", (1 + 1 + 0) / 3, 1),
    ("mrr", (1 + 0.5 + 0) / 3, 1),
    ("cites", (1 + 0 + 0 + 0) / 4, 0),
])
def test_scorers_average_the_examples(tmp_path, name, value, missing):
    scored = REGISTRY[name](rows(), MetricSpec(name=name, threshold=">= 0.5"), MetricContext(tmp_path))
    assert scored.value == pytest.approx(value)
    assert scored.missing == missing
