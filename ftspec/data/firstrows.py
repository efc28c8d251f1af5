"""The memory of the exact checks: for each prompt key, the target key and ref of the prompt's first row."""

from __future__ import annotations

RECENT = 131_072  # entries in the dict (~25 MB) before they move to sorted arrays (24 bytes an entry)


class FirstRows:
    """The newest entries sit in a dict; between batches, once it holds RECENT entries, they move to SortedRuns
    of (prompt key, target key, ref), and a batch asks those once for all its prompt keys (prefetch()) before
    its rows are looked up one by one (get()). A key is in one tier only: add() is for a key that get() missed.
    Below RECENT entries (most specs) it is a dict and numpy is never imported."""

    def __init__(self, recent: int | None = None):
        self.recent = recent or RECENT
        self.newest: dict[int, tuple[int, int]] = {}
        self.frozen = None  # SortedRuns
        self.fetched: dict[int, tuple[int, int]] = {}

    def __len__(self) -> int:
        return len(self.newest) + (self.frozen.size if self.frozen else 0)

    def prefetch(self, keys: list[int]) -> None:
        """The frozen entries of these keys (a batch's), for get() to answer from."""
        self.fetched = {}
        if self.frozen is None or not keys:
            return
        for _, (found_keys, targets, refs), at in self.frozen.matches(self.frozen.np.array(keys, dtype="int64")):
            self.fetched[int(found_keys[at])] = (int(targets[at]), int(refs[at]))

    def get(self, key: int) -> tuple[int, int] | None:
        """(target key, ref) of the key's first row; a frozen key only if prefetch() was given it."""
        return self.newest.get(key) or self.fetched.get(key)

    def add(self, key: int, target: int, ref: int) -> None:
        self.newest[key] = (target, ref)

    def settle(self) -> None:
        """Between batches: move the dict to the sorted arrays once it holds RECENT entries."""
        if len(self.newest) < self.recent:
            return
        if self.frozen is None:
            from ftspec.data.runs import SortedRuns

            self.frozen = SortedRuns()
        np = self.frozen.np
        count = len(self.newest)
        keys = np.fromiter(self.newest, dtype=np.int64, count=count)
        values = np.fromiter((value for pair in self.newest.values() for value in pair), dtype=np.int64,
                             count=2 * count).reshape(count, 2)
        self.newest = {}
        self.frozen.add(keys, values[:, 0].copy(), values[:, 1].copy())
