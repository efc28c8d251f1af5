"""Seeded percentile-bootstrap confidence intervals, for a metric and for the paired margin between two models.

Every resample draws examples with replacement and recomputes the metric with its own aggregate, so corpus
metrics (BLEU, chrF), percentiles and perplexity get honest intervals too. Margins resample the same examples for
both models (paired), which is much tighter than two independent intervals when the models agree on most rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from ftspec.evals.metrics import Scored

_CELLS_PER_CHUNK = 4_000_000  # resampled stats held in memory at once (floats): about 32 MB


def _index_chunks(n: int, samples: int, width: int, seed: int) -> Iterator[np.ndarray]:
    import numpy as np

    rng = np.random.default_rng(seed)
    per_chunk = max(1, _CELLS_PER_CHUNK // max(1, n * width))
    done = 0
    while done < samples:
        size = min(per_chunk, samples - done)
        yield rng.integers(0, n, size=(size, n))
        done += size


def _interval(values: np.ndarray, confidence: float) -> tuple[float, float] | None:
    import numpy as np

    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    tail = (1 - confidence) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    return float(low), float(high)


def metric_ci(scored: Scored, samples: int, confidence: float, seed: int) -> tuple[float, float] | None:
    import numpy as np

    n = len(scored.keys)
    if n == 0:
        return None
    width = scored.stats.shape[1]
    draws = [scored.aggregate(scored.stats[idx]) for idx in _index_chunks(n, samples, width, seed)]
    return _interval(np.concatenate(draws), confidence)


def margin_ci(tuned: Scored, base: Scored, higher_is_better: bool, samples: int, confidence: float,
              seed: int) -> tuple[float, float] | None:
    """CI of the improvement of `tuned` over `base`; both hold the same keys in the same order."""
    import numpy as np

    n = len(tuned.keys)
    if n == 0:
        return None
    width = tuned.stats.shape[1] + base.stats.shape[1]
    sign = 1.0 if higher_is_better else -1.0
    draws = [sign * (tuned.aggregate(tuned.stats[idx]) - base.aggregate(base.stats[idx]))
             for idx in _index_chunks(n, samples, width, seed)]
    return _interval(np.concatenate(draws), confidence)
