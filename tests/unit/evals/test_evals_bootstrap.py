"""Bootstrap intervals: they hold the point estimate, narrow as the set grows, repeat under a seed, and pair
the examples when they bound a margin."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftspec.evals.bootstrap import margin_ci, metric_ci
from ftspec.evals.metrics import REGISTRY, MetricContext
from ftspec.spec.models import MetricSpec


def scored(name: str, outcomes: list[bool], prefix: str = "e"):
    rows = [{"id": f"{prefix}{i}", "reference": "yes", "prediction": "yes" if ok else "no"}
            for i, ok in enumerate(outcomes)]
    return REGISTRY[name](rows, MetricSpec(name=name, threshold=">= 0"), MetricContext(Path(".")))


def pattern(n: int, every: int = 3) -> list[bool]:
    return [i % every != 0 for i in range(n)]  # two in three right


def width(ci) -> float:
    return ci[1] - ci[0]


@pytest.mark.parametrize("n", [12, 60, 300])
def test_ci_contains_the_point_estimate(n):
    s = scored("exact_match", pattern(n))
    low, high = metric_ci(s, 1000, 0.95, seed=7)
    assert low <= s.value <= high


def test_ci_narrows_as_the_set_grows():
    widths = [width(metric_ci(scored("exact_match", pattern(n)), 1000, 0.95, seed=7)) for n in (15, 60, 240, 960)]
    assert widths == sorted(widths, reverse=True)
    assert widths[-1] < widths[0] / 4  # about 1/sqrt(n): 64 times the data, an eighth of the width


def test_higher_confidence_gives_a_wider_interval():
    s = scored("exact_match", pattern(90))
    assert width(metric_ci(s, 1000, 0.99, seed=1)) > width(metric_ci(s, 1000, 0.8, seed=1))


def test_same_seed_same_interval():
    s = scored("token_f1", pattern(50))
    assert metric_ci(s, 500, 0.95, seed=3) == metric_ci(s, 500, 0.95, seed=3)


def test_corpus_metric_is_resampled_by_example():
    rows = [{"id": str(i), "reference": f"the order has {i} red mugs", "prediction": f"the order has {i % 4} red mugs"}
            for i in range(40)]
    s = REGISTRY["bleu"](rows, MetricSpec(name="bleu", threshold=">= 0"), MetricContext(Path(".")))
    low, high = metric_ci(s, 300, 0.95, seed=0)
    assert low < high and low <= s.value <= high


def test_paired_margin_is_tighter_than_the_gap_between_two_independent_intervals():
    # the tuned model is right wherever the baseline is, and on 10 more examples of 100
    base_outcomes = [i % 2 == 0 for i in range(100)]
    tuned_outcomes = [ok or i % 10 == 1 for i, ok in enumerate(base_outcomes)]
    tuned, base = scored("exact_match", tuned_outcomes), scored("exact_match", base_outcomes)
    margin = tuned.value - base.value
    low, high = margin_ci(tuned, base, True, 1000, 0.95, seed=5)
    assert low <= margin <= high
    assert low > 0  # every resample keeps the pairs, so the gain never turns negative
    lo_t, _ = metric_ci(tuned, 1000, 0.95, seed=5)
    _, hi_b = metric_ci(base, 1000, 0.95, seed=5)
    assert lo_t < hi_b  # unpaired intervals overlap: they could not show the gain


def test_margin_sign_follows_the_metric_direction():
    tuned = scored("exact_match", [True] * 5)
    base = scored("exact_match", [False] * 5)
    assert margin_ci(tuned, base, True, 200, 0.9, seed=0) == (1.0, 1.0)
    assert margin_ci(tuned, base, False, 200, 0.9, seed=0) == (-1.0, -1.0)


def test_an_empty_set_has_no_interval():
    assert metric_ci(scored("exact_match", []), 200, 0.95, seed=0) is None


def test_corpus_margin_is_paired_and_holds_the_point_margin():
    refs = [f"the order has {i} red mugs and {i + 1} blue cups" for i in range(40)]
    tuned_rows = [{"id": str(i), "reference": r, "prediction": r if i % 3 else "two cups"} for i, r in enumerate(refs)]
    base_rows = [{"id": str(i), "reference": r, "prediction": "the order"} for i, r in enumerate(refs)]
    metric = MetricSpec(name="chrf", threshold=">= 0")
    tuned = REGISTRY["chrf"](tuned_rows, metric, MetricContext(Path(".")))
    base = REGISTRY["chrf"](base_rows, metric, MetricContext(Path(".")))
    low, high = margin_ci(tuned, base, True, 300, 0.95, seed=2)
    assert low <= tuned.value - base.value <= high and low > 0
