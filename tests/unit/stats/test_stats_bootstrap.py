"""The bootstrap in ftspec.stats equals scipy.stats.bootstrap (percentile method) on fixed inputs: the same seeded
resamples and the same interval, for one sample and for a paired difference."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from ftspec.stats.bootstrap import bootstrap_ci, paired_bootstrap_ci


def mean(x):
    return x[..., 0].mean(axis=-1)


@pytest.mark.parametrize("n, confidence, seed", [(12, 0.95, 0), (50, 0.9, 3), (300, 0.99, 11)])
def test_interval_equals_scipy_percentile_bootstrap(n, confidence, seed):
    x = np.random.default_rng(100 + n).random(n)
    ours = bootstrap_ci(x.reshape(-1, 1), mean, 1000, confidence, seed)
    theirs = stats.bootstrap((x,), np.mean, n_resamples=1000, confidence_level=confidence, method="percentile",
                             rng=np.random.default_rng(seed), vectorized=True, axis=-1).confidence_interval
    assert ours == pytest.approx((theirs.low, theirs.high), rel=1e-12)


def test_paired_margin_equals_scipy_paired_bootstrap():
    rng = np.random.default_rng(7)
    a = (rng.random(80) < 0.7).astype(float)
    b = (rng.random(80) < 0.5).astype(float)
    ours = paired_bootstrap_ci(a.reshape(-1, 1), mean, b.reshape(-1, 1), mean, 2000, 0.95, 5)
    theirs = stats.bootstrap((a, b), lambda u, v, axis=-1: u.mean(axis=axis) - v.mean(axis=axis), paired=True,
                             n_resamples=2000, confidence_level=0.95, method="percentile",
                             rng=np.random.default_rng(5), vectorized=True, axis=-1).confidence_interval
    assert ours == pytest.approx((theirs.low, theirs.high), rel=1e-12)


def test_chunked_resampling_keeps_the_interval_close():
    """Above the memory bound the resamples come in chunks from one generator: still the same distribution."""
    x = np.random.default_rng(1).random((20_000, 1))
    whole = bootstrap_ci(x, mean, 400, 0.95, 0)  # 20,000 x 400 cells: two chunks
    theirs = stats.bootstrap((x[:, 0],), np.mean, n_resamples=400, method="percentile",
                             rng=np.random.default_rng(0), vectorized=True, axis=-1).confidence_interval
    assert whole == pytest.approx((theirs.low, theirs.high), abs=2e-3)


def test_the_first_wave_import_still_works():
    from ftspec.evals import bootstrap as old
    from ftspec.stats import bootstrap as new

    assert old.metric_ci is new.metric_ci and old.margin_ci is new.margin_ci
