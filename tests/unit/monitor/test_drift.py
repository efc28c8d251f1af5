"""PSI, the KS test, the bins and the reservoirs on fixed inputs, against hand computation and scipy."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from scipy import stats

from ftspec.monitor.drift import Reservoir, bin_counts, ks_test, psi, quantile_edges


def test_psi_equals_the_hand_computed_sum():
    expected, actual = [10, 20, 30, 40], [40, 30, 20, 10]
    p = [v / 100 for v in expected]
    q = [v / 100 for v in actual]
    by_hand = sum((b - a) * math.log(b / a) for a, b in zip(p, q, strict=True))
    assert psi(expected, actual) == pytest.approx(by_hand, rel=1e-12)
    assert psi(expected, actual) == pytest.approx(0.6 * math.log(4) + 0.2 * math.log(1.5), rel=1e-12)


def test_psi_of_identical_shares_is_zero_and_an_empty_bin_is_smoothed():
    assert psi([5, 5, 10], [50, 50, 100]) == pytest.approx(0.0, abs=1e-15)
    smoothed = psi([50, 50], [100, 0])
    q_empty = 1e-4
    assert smoothed == pytest.approx((1 - 0.5) * math.log(1 / 0.5) + (q_empty - 0.5) * math.log(q_empty / 0.5))
    assert psi([1, 1], [0, 0]) is None


def test_psi_equals_scipy_entropy_form_on_random_counts():
    """PSI is KL(q||p) + KL(p||q); scipy.stats.entropy computes each KL."""
    rng = np.random.default_rng(3)
    expected, actual = rng.integers(5, 100, 10), rng.integers(5, 100, 10)
    p, q = expected / expected.sum(), actual / actual.sum()
    assert psi(expected.tolist(), actual.tolist()) == pytest.approx(stats.entropy(q, p) + stats.entropy(p, q))


def test_ks_equals_scipy_two_sample_test():
    rng = np.random.default_rng(11)
    a, b = rng.normal(0, 1, 400), rng.normal(0.3, 1, 300)
    reference = stats.ks_2samp(a, b)
    assert ks_test(a.tolist(), b.tolist()) == (pytest.approx(reference.statistic), pytest.approx(reference.pvalue))
    assert ks_test([], [1.0]) is None


def test_bins_follow_the_training_deciles():
    values = list(range(1, 101))
    edges = quantile_edges(values)
    assert edges == pytest.approx(np.quantile(values, [i / 10 for i in range(1, 10)]).tolist())
    counts = bin_counts(values, edges)
    assert counts.tolist() == [10] * 10
    assert bin_counts([0, 1000], edges).tolist() == [1] + [0] * 8 + [1]  # outside the range: the end bins
    assert quantile_edges([7, 7, 7]) == [7.0]  # repeated edges merge


def test_reservoir_is_bounded_complete_while_small_and_uniform():
    small = Reservoir(10)
    small.extend(list(range(5)))
    assert small.items == [0, 1, 2, 3, 4] and small.complete
    hits = Counter()
    for seed in range(300):
        reservoir = Reservoir(10, seed)
        reservoir.extend(list(range(100)))
        assert len(reservoir.items) == 10 and reservoir.seen == 100 and not reservoir.complete
        hits.update(item // 10 for item in reservoir.items)
    # each tenth of the stream holds a tenth of the sample (300 * 10 draws: 300 expected per tenth)
    assert stats.chisquare([hits[k] for k in range(10)]).pvalue > 0.001
