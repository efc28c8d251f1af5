"""Compact memory for the audit's per-row state once a file outgrows a dict: sorted numpy arrays, a few bytes an
entry and no Python object per row.

Entries come in chunks (one array per column, the first the key); each chunk is sorted into a run, and runs of
similar size are merged, as in an LSM tree, up to MAX_RUN entries, so there are about log2(MAX_RUN / chunk) +
entries / MAX_RUN runs. The cap bounds what a merge holds twice, and keeps the arrays small enough for the C
allocator to hand their memory back. A batch of queries is sorted once, then goes to each run in one
searchsorted (sorted queries make it ~3x faster). numpy (~0.1 s to import) is imported by the first chunk.
"""

from __future__ import annotations

MAX_RUN = 1 << 20  # entries


class SortedRuns:
    def __init__(self, max_run: int = MAX_RUN):
        import numpy as np

        self.np = np
        self.max_run = max_run
        self.runs: list[tuple] = []  # each a tuple of columns, sorted by the first
        self.size = 0

    def add(self, *columns) -> None:
        order = self.np.argsort(columns[0], kind="stable")
        run = tuple(column[order] for column in columns)
        self.size += len(order)
        while self.runs and len(self.runs[-1][0]) <= len(run[0]) and \
                len(self.runs[-1][0]) + len(run[0]) <= self.max_run:
            run = self._merge(self.runs.pop(), run)
        self.runs.append(run)

    def _merge(self, older: tuple, newer: tuple) -> tuple:
        np = self.np
        total = len(older[0]) + len(newer[0])
        # where each newer entry lands: after the older entries with the same key, so keys stay in arrival order
        landing = np.searchsorted(older[0], newer[0], side="right") + np.arange(len(newer[0]))
        from_older = np.ones(total, dtype=bool)
        from_older[landing] = False
        merged = []
        for old, new in zip(older, newer, strict=True):
            column = np.empty(total, dtype=old.dtype)
            column[landing] = new
            column[from_older] = old
            merged.append(column)
        return tuple(merged)

    def matches(self, queries):
        """Each (query position, run, first match) where a run holds a query's key; further matches of the same
        key follow the first in the run."""
        np = self.np
        order = np.argsort(queries, kind="stable")
        ordered = queries[order]
        for run in self.runs:
            keys = run[0]
            starts = np.searchsorted(keys, ordered, side="left")
            inside = starts < len(keys)
            hits = np.flatnonzero(inside)
            hits = hits[keys[starts[hits]] == ordered[hits]]
            for hit, start in zip(order[hits].tolist(), starts[hits].tolist(), strict=True):
                yield hit, run, start

    def nbytes(self) -> int:
        return sum(column.nbytes for run in self.runs for column in run)
