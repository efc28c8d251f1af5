"""The paired tests and the power calculation against the reference libraries, on fixed inputs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from ftspec.stats.paired import (
    bootstrap_means,
    bootstrap_pvalue,
    holm,
    is_binary,
    mcnemar_exact,
    sign_flip_pvalues,
)
from ftspec.stats.power import detectable_effect, rate_after, samples_for_mean_shift, samples_per_variant


def _pairs(both: int, only_a: int, only_b: int, neither: int) -> tuple[np.ndarray, np.ndarray]:
    a = [1] * both + [1] * only_a + [0] * only_b + [0] * neither
    b = [1] * both + [0] * only_a + [1] * only_b + [0] * neither
    return np.array(a, float), np.array(b, float)


@pytest.mark.parametrize("table", [(50, 3, 12, 35), (10, 0, 0, 5), (0, 7, 1, 2), (200, 40, 0, 160)])
def test_mcnemar_equals_statsmodels_and_the_exact_binomial(table):
    both, only_a, only_b, neither = table
    a, b = _pairs(*table)
    expected = mcnemar([[both, only_a], [only_b, neither]], exact=True).pvalue
    assert mcnemar_exact(a, b) == pytest.approx(expected, rel=1e-12)
    if only_a + only_b:
        binomial = stats.binomtest(min(only_a, only_b), only_a + only_b, 0.5).pvalue
        assert mcnemar_exact(a, b) == pytest.approx(binomial, rel=1e-9)
    else:
        assert mcnemar_exact(a, b) == 1.0


def test_exact_sign_flip_equals_scipy_permutation_test():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=11), rng.normal(size=11) + 0.4
    reference = stats.permutation_test((y, x), lambda s, t, axis: np.mean(s - t, axis=axis),
                                       permutation_type="samples", n_resamples=np.inf, vectorized=True)
    ours = sign_flip_pvalues((y - x)[:, None], samples=5000, seed=0)[0]
    assert ours == pytest.approx(reference.pvalue, rel=1e-12)


def test_sign_flip_of_identical_scores_is_one_and_a_large_shift_is_small():
    zeros = np.zeros((400, 1))
    assert sign_flip_pvalues(zeros, 1000, 0)[0] == 1.0
    shifted = np.full((400, 1), 0.1) + np.random.default_rng(0).normal(0, 0.05, (400, 1))
    assert sign_flip_pvalues(shifted, 1000, 0)[0] == pytest.approx(1 / 1001)


def test_holm_equals_statsmodels():
    p = [0.01, 0.04, 0.03, 0.2, 0.001]
    assert holm(p) == pytest.approx(list(multipletests(p, method="holm")[1]))


def test_bootstrap_means_equal_index_resampling_with_the_same_draws():
    x = np.random.default_rng(1).random((50, 3))
    means = bootstrap_means(x, samples=200, seed=7)
    idx = np.random.default_rng(7).integers(0, 50, size=(200, 50))
    assert means == pytest.approx(x[idx].mean(axis=1), rel=1e-12)


def test_bootstrap_pvalue_of_no_difference_is_one():
    draws = np.random.default_rng(0).normal(0, 0.01, 1000)
    assert bootstrap_pvalue(draws, 0.0) == 1.0


def test_binary_detection():
    assert is_binary(np.array([0.0, 1.0]), np.array([1.0]))
    assert not is_binary(np.array([0.5, 1.0]))


@pytest.mark.parametrize(("p1", "effect", "alpha", "power"), [(0.2, 0.05, 0.05, 0.8), (0.5, -0.1, 0.01, 0.9)])
def test_samples_per_variant_match_statsmodels(p1, effect, alpha, power):
    h = abs(proportion_effectsize(p1 + effect, p1))
    expected = NormalIndPower().solve_power(effect_size=h, alpha=alpha, power=power, ratio=1.0)
    assert samples_per_variant(p1, effect, alpha, power) == math.ceil(expected)
    assert samples_per_variant(p1, effect, alpha, power, design_effect=2.0) == math.ceil(2 * expected)


def test_detectable_effect_round_trips_the_sample_size():
    n = samples_per_variant(0.2, 0.03)
    mde = detectable_effect(0.2, n, n)
    assert mde == pytest.approx(0.03, rel=0.01)
    assert rate_after(0.2, proportion_effectsize(0.23, 0.2)) == pytest.approx(0.23)


def test_samples_for_a_mean_shift_match_statsmodels():
    expected = NormalIndPower().solve_power(effect_size=5 / 20, alpha=0.05, power=0.8, ratio=1.0)
    assert samples_for_mean_shift(20.0, 5.0) == math.ceil(expected)


def _scored(metric_name: str, n: int):
    from ftspec.evals.metrics import REGISTRY, MetricContext
    from ftspec.spec.models import MetricSpec

    rng = np.random.default_rng(5)
    words = ["red mug", "blue hat", "two socks", "a lamp", "green cup"]
    rows = [{"id": f"r{i}", "prediction": str(rng.choice(words)), "reference": str(rng.choice(words)),
             "latency_ms": float(rng.uniform(10, 90)), "nll": float(rng.uniform(1, 9)),
             "ref_tokens": int(rng.integers(1, 9))}
            for i in range(n)]
    return REGISTRY[metric_name](rows, MetricSpec(name=metric_name, threshold=0), MetricContext(Path(".")))


@pytest.mark.parametrize(("metric", "kind", "n"), [("perplexity", "sums", 37), ("chrf", "sums", 37),
                                                   ("latency_p95", 95.0, 37), ("latency_p50", 50.0, 37),
                                                   ("latency_p95", "gather", 37), ("latency_p95", 95.0, 3000),
                                                   ("latency_p50", 50.0, 3001)])
def test_resampling_from_counts_equals_resampling_rows(metric, kind, n):
    from ftspec.stats.paired import count_chunks, resampled

    scored = _scored(metric, n)
    counts = next(count_chunks(n, 40, seed=11))
    idx = np.random.default_rng(11).integers(0, n, size=(40, n))
    expected = scored.aggregate(scored.stats[idx])
    assert resampled(scored.stats, counts, kind, scored.aggregate) == pytest.approx(expected, rel=1e-9)


def test_a_single_look_boundary_is_the_closed_form():
    from scipy.stats import norm

    from ftspec.versions.sequential import obrien_fleming_boundaries

    assert obrien_fleming_boundaries([0.25], 0.05)[0] == pytest.approx(norm.ppf(0.975) / 0.5, rel=1e-12)


@pytest.mark.parametrize("fractions", [[0.5, 1.0], [0.3, 0.7, 1.0], [0.2, 0.45, 0.8]])
def test_boundaries_spend_alpha_as_scipy_multivariate_normal_measures(fractions):
    """Independent check: the chance of crossing any boundary by look k, under no difference, is alpha(t_k)."""
    from scipy.stats import multivariate_normal

    from ftspec.versions.sequential import obrien_fleming_boundaries, spent

    bounds = np.array(obrien_fleming_boundaries(fractions, 0.05))
    cov = np.array([[math.sqrt(min(a, b) / max(a, b)) for b in fractions] for a in fractions])
    stay = multivariate_normal(mean=np.zeros(len(fractions)), cov=cov, seed=1, abseps=1e-7).cdf(
        bounds, lower_limit=-bounds)
    assert 1 - stay == pytest.approx(spent(fractions[-1], 0.05), abs=2e-5)
    assert list(bounds) == sorted(bounds, reverse=True)
