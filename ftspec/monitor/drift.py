"""Drift statistics: PSI over the training data's quantile bins, the two-sample KS test (scipy), and reservoirs.

PSI (population stability index) = sum over bins of (q - p) * ln(q / p), p the training share of a bin and q the
production share; empty bins count as EPSILON so one empty bin does not make it infinite. The bins are the
training data's deciles, so every bin holds about a tenth of training and the index weighs the whole range.
"""

from __future__ import annotations

import math

EPSILON = 1e-4
BINS = 10


def quantile_edges(values, bins: int = BINS) -> list[float]:
    """The interior edges that cut `values` into `bins` groups of about equal size (repeated edges merged)."""
    import numpy as np

    if len(values) == 0:
        return []
    qs = np.quantile(np.asarray(values, dtype=float), [i / bins for i in range(1, bins)])
    return sorted(set(float(q) for q in qs))


def bin_counts(values, edges: list[float]):
    """Counts of `values` per bin: bin i holds edges[i-1] < v <= edges[i] (len(edges) + 1 bins)."""
    import numpy as np

    index = np.searchsorted(np.asarray(edges, dtype=float), np.asarray(values, dtype=float), side="left")
    return np.bincount(index, minlength=len(edges) + 1)


def psi(expected_counts, actual_counts, epsilon: float = EPSILON) -> float | None:
    """Population stability index of `actual` against `expected`, both counts per bin; None without data."""
    expected_total, actual_total = sum(expected_counts), sum(actual_counts)
    if not expected_total or not actual_total:
        return None
    total = 0.0
    for e, a in zip(expected_counts, actual_counts, strict=True):
        p, q = max(e / expected_total, epsilon), max(a / actual_total, epsilon)
        total += (q - p) * math.log(q / p)
    return total


def ks_test(training, production) -> tuple[float, float] | None:
    """(KS statistic, p-value) of the two samples (scipy.stats.ks_2samp, two-sided); None if one is empty."""
    if len(training) == 0 or len(production) == 0:
        return None
    from scipy.stats import ks_2samp

    result = ks_2samp(training, production)
    return float(result.statistic), float(result.pvalue)


class Reservoir:
    """A uniform sample of at most `size` of the items seen (Algorithm R), seeded: bounded memory for KS tests,
    bootstrap CIs and percentiles over windows of any size. extend() draws a batch's slots in one numpy call."""

    __slots__ = ("size", "items", "seen", "_seed", "_rng")

    def __init__(self, size: int, seed: int = 0):
        self.size, self.items, self.seen = size, [], 0
        self._seed, self._rng = seed, None

    def add(self, item) -> None:
        self.extend([item])

    def extend(self, items) -> None:
        room = self.size - len(self.items)
        if room > 0:
            head = items[:room]
            self.items.extend(head)
            self.seen += len(head)
            items = items[room:]
        if not len(items):
            return
        import numpy as np

        if self._rng is None:
            self._rng = np.random.default_rng(self._seed)
        # item k of the batch is the (seen + k + 1)-th seen: it takes a uniform slot in [0, seen + k], kept if < size
        slots = (self._rng.random(len(items)) * np.arange(self.seen + 1, self.seen + len(items) + 1)).astype(np.int64)
        for k in np.flatnonzero(slots < self.size).tolist():
            self.items[slots[k]] = items[k]
        self.seen += len(items)

    @property
    def complete(self) -> bool:
        """Whether the sample holds every item seen."""
        return self.seen == len(self.items)
