"""Paired tests between two runs scored on the same examples, and the correction across many of them.

- 0/1 scores: McNemar's exact test (statsmodels) on the discordant pairs.
- other per-example scores: a paired sign-flip permutation test on the per-example differences; exact (every one of
  the 2^n sign patterns) when 2^n fits in the resample budget, else Monte Carlo with the (k+1)/(R+1) p-value.
- corpus metrics, percentiles, perplexity: a paired bootstrap test (the resampled difference, centred on the null).
- many metrics x slices: Holm's step-down correction (statsmodels.stats.multitest).

Bootstrap intervals of means are vectorised as one matrix product: each resample is a row of counts (how often each
example was drawn), so every mean metric of a slice is resampled by `counts @ scores` at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

_CELLS_PER_CHUNK = 4_000_000  # resampled cells held at once (about 32 MB of floats)


def is_binary(*arrays: np.ndarray) -> bool:
    import numpy as np

    return all(np.isin(a, (0.0, 1.0)).all() for a in arrays)


def mcnemar_exact(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided exact McNemar p-value for paired 0/1 outcomes (a[i], b[i])."""
    import numpy as np
    from statsmodels.stats.contingency_tables import mcnemar

    a, b = np.asarray(a) > 0.5, np.asarray(b) > 0.5
    table = [[int((a & b).sum()), int((a & ~b).sum())], [int((~a & b).sum()), int((~a & ~b).sum())]]
    return float(mcnemar(table, exact=True).pvalue)


def _sign_patterns(n: int, samples: int, seed: int) -> tuple[np.ndarray, bool]:
    """Rows of +-1 signs: all 2^n patterns when they fit in `samples` (exact), else `samples` random ones."""
    import numpy as np

    if n <= 20 and 2 ** n <= samples:
        bits = (np.arange(2 ** n)[:, None] >> np.arange(n)[None, :]) & 1
        return 1.0 - 2.0 * bits, True
    rng = np.random.default_rng(seed)
    bits = np.unpackbits(np.frombuffer(rng.bytes((samples * n + 7) // 8), dtype=np.uint8))[: samples * n]
    return 1.0 - 2.0 * bits.reshape(samples, n), False  # random bytes unpacked: 8x fewer draws than integers


def sign_flip_pvalues(diffs: np.ndarray, samples: int, seed: int) -> np.ndarray:
    """Two-sided paired permutation p-values of mean(diff) == 0, one per column of diffs (n, m); the same sign
    patterns serve every column. Exact enumeration equals scipy.stats.permutation_test(permutation_type='samples')."""
    import numpy as np

    diffs = np.asarray(diffs, dtype=float).reshape(len(diffs), -1)
    n = diffs.shape[0]
    if n == 0:
        return np.ones(diffs.shape[1])
    observed = np.abs(diffs.mean(axis=0))
    signs, exact = _sign_patterns(n, samples, seed)
    hits = np.zeros(diffs.shape[1])
    step = max(1, _CELLS_PER_CHUNK // max(1, n))
    for start in range(0, len(signs), step):
        means = np.abs(signs[start:start + step] @ diffs) / n
        # a relative tolerance: a resample equal to the observed value up to rounding counts as extreme (scipy's)
        hits += (means >= observed * (1 - 1e-14) - 1e-14).sum(axis=0)
    p = hits / len(signs) if exact else (hits + 1) / (len(signs) + 1)
    return np.minimum(p, 1.0)


def count_chunks(n: int, samples: int, seed: int, width: int = 1) -> Iterator[np.ndarray]:
    """Bootstrap resamples as count rows (samples, n): row r says how often each example was drawn."""
    import numpy as np

    rng = np.random.default_rng(seed)
    per_chunk = max(1, _CELLS_PER_CHUNK // max(1, n * max(1, width)))
    done = 0
    while done < samples:
        size = min(per_chunk, samples - done)
        idx = rng.integers(0, n, size=(size, n)) + (np.arange(size) * n)[:, None]
        yield np.bincount(idx.ravel(), minlength=size * n).reshape(size, n).astype(np.float64)
        done += size


def bootstrap_means(columns: np.ndarray, samples: int, seed: int) -> np.ndarray:
    """Resampled means of every column of (n, m) at once: (samples, m)."""
    import numpy as np

    n = columns.shape[0]
    return np.concatenate([counts @ columns / n for counts in count_chunks(n, samples, seed, columns.shape[1])])


def resampled(stats: np.ndarray, counts: np.ndarray, kind: str | float, aggregate: Callable) -> np.ndarray:
    """A metric's value on each resample given as counts rows (r, n), without gathering r x n rows:
    - "sums": the aggregate depends on the column sums only (perplexity, corpus BLEU/chrF): aggregate the
      resampled sums, each presented as a one-row set;
    - a number q: the q-th percentile (numpy's linear method) read from the resampled order statistics;
    - anything else: the aggregate of the gathered rows (slow, exact for any aggregate)."""
    import numpy as np

    if kind == "sums":
        return aggregate((counts @ stats)[:, None, :])
    if isinstance(kind, (int, float)):
        n = stats.shape[0]
        h = (n - 1) * kind / 100
        low = int(np.floor(h))
        ranks = (low, min(low + 1, n - 1))
        lows, highs = _order_statistics(stats[:, 0], counts, ranks)
        return lows + (h - low) * (highs - lows)
    positions = np.arange(counts.shape[1])
    return aggregate(stats[np.stack([np.repeat(positions, row.astype(np.int64)) for row in counts])])


def _order_statistics(values: np.ndarray, counts: np.ndarray, ranks: tuple[int, ...]) -> list[np.ndarray]:
    """The 0-based order statistics `ranks` of every resample (counts rows). Counted from the nearer end of the
    sorted values, and only over the positions a resample can need (rank + a margin of 8 sqrt(n), widened in the
    rare case it falls short): a p95 reads ~13% of the columns, not all of them."""
    import numpy as np

    n = len(values)
    from_top = max(ranks) >= n / 2
    order = np.argsort(values, kind="stable")[::-1] if from_top else np.argsort(values, kind="stable")
    ranks = tuple(n - 1 - r for r in ranks) if from_top else ranks
    deepest = max(ranks)
    width = min(n, deepest + 1 + int(8 * np.sqrt(n)) + 16)
    while True:
        cum = np.cumsum(counts[:, order[:width]], axis=1)
        if width == n or (cum[:, -1] >= deepest + 1).all():
            break
        width = min(n, 2 * width)
    ordered = values[order]
    return [ordered[np.minimum((cum < r + 1).sum(axis=1), n - 1)] for r in ranks]


def interval(values: np.ndarray, confidence: float) -> list[float] | None:
    """The percentile interval of resampled values (non-finite resamples dropped), one per column."""
    import numpy as np

    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    tail = (1 - confidence) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    return [float(low), float(high)]


def bootstrap_pvalue(resampled_diff: np.ndarray, observed: float) -> float:
    """Two-sided paired bootstrap p-value of difference == 0: how often the resampled difference, shifted to the
    null (centred on 0), is at least as far from 0 as the observed one."""
    import numpy as np

    d = resampled_diff[np.isfinite(resampled_diff)]
    if d.size == 0 or not np.isfinite(observed):
        return 1.0
    centred = np.abs(d - observed)
    return float(min(1.0, ((centred >= abs(observed) * (1 - 1e-12)).sum() + 1) / (d.size + 1)))


def holm(pvalues: list[float]) -> list[float]:
    """Holm-adjusted p-values (statsmodels), in the given order."""
    if not pvalues:
        return []
    import gc

    from statsmodels.stats.multitest import multipletests

    gc.freeze()  # multipletests calls gc.collect(): without this it walks every live object (0.3 s on a big compare)
    try:
        return [float(p) for p in multipletests(list(pvalues), method="holm")[1]]
    finally:
        gc.unfreeze()
