"""Seeded percentile-bootstrap confidence intervals (numpy, vectorised), for a metric and for a paired margin.

A resample draws n examples with replacement; the statistic is recomputed on it by the metric's own aggregate,
which maps per-example statistics of shape (..., n, k) to values of shape (...). So a mean, a percentile, a
perplexity (a ratio of sums) and a corpus score (BLEU, chrF from summed sufficient statistics) are all resampled
the same way, many resamples per numpy call. Margins resample the same examples for both models (paired), which is
much tighter than two independent intervals when the models agree on most rows.

The resampling and the percentile interval are those of scipy.stats.bootstrap(method="percentile"), which the tests
check against on fixed inputs; the chunking bounds memory for large sets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np

_CELLS_PER_CHUNK = 4_000_000  # resampled stats held in memory at once (floats): about 32 MB

Aggregate = Callable[["np.ndarray"], "np.ndarray"]


class Scored(Protocol):
    """What a scorer returns (ftspec.evals.metrics.Scored): per-example statistics and their aggregate."""

    stats: np.ndarray
    aggregate: Aggregate


def resample_indices(n: int, samples: int, width: int, seed: int) -> Iterator[np.ndarray]:
    """Index arrays of shape (chunk, n) drawing examples with replacement, `samples` rows in all, seeded."""
    import numpy as np

    rng = np.random.default_rng(seed)
    per_chunk = max(1, _CELLS_PER_CHUNK // max(1, n * width))
    done = 0
    while done < samples:
        size = min(per_chunk, samples - done)
        yield rng.integers(0, n, size=(size, n))
        done += size


def percentile_interval(values: np.ndarray, confidence: float) -> tuple[float, float] | None:
    """The central `confidence` interval of the resampled values; non-finite resamples are left out."""
    import numpy as np

    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    tail = (1 - confidence) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    return float(low), float(high)


def bootstrap_ci(stats: np.ndarray, aggregate: Aggregate, samples: int, confidence: float,
                 seed: int) -> tuple[float, float] | None:
    """CI of aggregate(stats) for per-example statistics of shape (n, k)."""
    import numpy as np

    n = len(stats)
    if n == 0:
        return None
    draws = [aggregate(stats[idx]) for idx in resample_indices(n, samples, stats.shape[1], seed)]
    return percentile_interval(np.concatenate(draws), confidence)


def paired_bootstrap_ci(a: np.ndarray, a_aggregate: Aggregate, b: np.ndarray, b_aggregate: Aggregate,
                        samples: int, confidence: float, seed: int, sign: float = 1.0) -> tuple[float, float] | None:
    """CI of sign * (a_aggregate(a) - b_aggregate(b)) where row i of `a` and of `b` is the same example."""
    import numpy as np

    n = len(a)
    if n == 0:
        return None
    width = a.shape[1] + b.shape[1]
    draws = [sign * (a_aggregate(a[idx]) - b_aggregate(b[idx])) for idx in resample_indices(n, samples, width, seed)]
    return percentile_interval(np.concatenate(draws), confidence)


def metric_ci(scored: Scored, samples: int, confidence: float, seed: int) -> tuple[float, float] | None:
    return bootstrap_ci(scored.stats, scored.aggregate, samples, confidence, seed)


def margin_ci(tuned: Scored, base: Scored, higher_is_better: bool, samples: int, confidence: float,
              seed: int) -> tuple[float, float] | None:
    """CI of the improvement of `tuned` over `base`; both hold the same keys in the same order."""
    sign = 1.0 if higher_is_better else -1.0
    return paired_bootstrap_ci(tuned.stats, tuned.aggregate, base.stats, base.aggregate, samples, confidence, seed,
                               sign)
