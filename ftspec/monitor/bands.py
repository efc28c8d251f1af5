"""A vectorised MinHash LSH index over the audit's signatures (ftspec.data.neardup), for whole batches of queries.

The audit's NearIndex verifies each candidate in Python (~3 us a candidate); at the monitor's looser similarity
(0.3: 64 bands of 2 slots) a prompt has dozens of candidates, which would cost a minute per million log rows. Here a
batch of queries is answered with numpy: each band of each row is a 32-bit key (the audit's multiply-and-add hash
of its slots), kept in sorted runs (8 bytes a band with its row id: 512 bytes a row at 64 bands); a query's keys are
looked up with searchsorted, and every candidate is verified at once on the digests' low 16 bits (256 bytes a row;
a chance agreement of 1/65536 a slot changes an estimate by less than 0.001). A bucket contributes at most BUCKET
candidates, which bounds the cost of a band that many rows share (a common phrase): the rows in it are alike, so the
first BUCKET stand for the rest.
"""

from __future__ import annotations

from ftspec.data.neardup import NUM_PERM, SEED, bands_for

BUCKET = 16
GROUP = 4  # bands tried together before the resolved queries drop out
PAIRS = 1 << 18  # candidate pairs verified per numpy step (64 MB of digests at most)
MAX_RUNS = 6


class BandIndex:
    def __init__(self, threshold: float):
        import numpy as np

        self.np = np
        self.threshold = threshold
        self.bands = bands_for(threshold)
        self.needed = int(np.ceil(threshold * NUM_PERM - 1e-9))  # equal slots that reach the threshold
        self.multipliers = np.random.default_rng(SEED).integers(1, 2**63, NUM_PERM, dtype=np.uint64) * 2 + 1
        self.runs: list[tuple] = []  # (sorted keys, row ids in key order)
        self.digests = np.zeros((0, NUM_PERM), dtype=np.uint16)
        self._pending: list = []

    def __len__(self) -> int:
        return len(self.digests) + sum(len(d) for d in self._pending)

    def matrix(self, digests) -> object:
        """(rows, NUM_PERM) uint32 from the concatenated digests of neardup.batch_digests."""
        return self.np.frombuffer(digests, dtype=self.np.uint32).reshape(-1, NUM_PERM)

    def keys(self, matrix):
        np = self.np
        products = matrix.astype(np.uint64) * self.multipliers
        sums = products.reshape(len(matrix), self.bands, -1).sum(axis=2, dtype=np.uint64)
        # 32 bits a key: the band's hash plus a per-band offset (a collision only adds a candidate to verify)
        band = np.arange(self.bands, dtype=np.uint64) * np.uint64(0x9E3779B1)
        return (((sums >> np.uint64(32)) + band) & np.uint64(0xFFFFFFFF)).astype(np.uint32)  # (rows, bands)

    def add(self, matrix) -> None:
        np = self.np
        if not len(matrix):
            return
        first = len(self)
        keys = self.keys(matrix).ravel()
        ids = np.repeat(np.arange(first, first + len(matrix), dtype=np.int32), self.bands)
        order = np.argsort(keys, kind="stable")
        self.runs.append((keys[order], ids[order]))
        self._pending.append((matrix & 0xFFFF).astype(np.uint16))
        if len(self.runs) > MAX_RUNS:
            keys = np.concatenate([run[0] for run in self.runs])
            ids = np.concatenate([run[1] for run in self.runs])
            order = np.argsort(keys, kind="stable")
            self.runs = [(keys[order], ids[order])]

    def near(self, matrix):
        """For each query row: whether an indexed row reaches the threshold, and one such row (-1 if none). Bands
        are tried a few at a time and a query stops at its first verified neighbour: a prompt like the training
        data resolves in its first bands, and a novel one has few candidates in any."""
        np = self.np
        if self._pending:
            self.digests = np.concatenate([self.digests, *self._pending])
            self._pending = []
        count = len(matrix)
        found_row = np.full(count, -1, dtype=np.int64)
        if not count or not self.runs:
            return found_row >= 0, found_row
        queries = self.keys(matrix)  # (count, bands)
        low16 = (matrix & 0xFFFF).astype(np.uint16)
        open_ = np.arange(count)
        for first in range(0, self.bands, GROUP):
            if not len(open_):
                break
            rows, owners = self._candidates(queries[open_, first:first + GROUP], open_)
            for start in range(0, len(rows), PAIRS):
                part_rows, part_q = rows[start:start + PAIRS], owners[start:start + PAIRS]
                ok = (self.digests[part_rows] == low16[part_q]).sum(axis=1) >= self.needed
                found_row[part_q[ok]] = part_rows[ok]  # any neighbour will do
            open_ = open_[found_row[open_] < 0]
        return found_row >= 0, found_row

    def _candidates(self, keys, owners):
        """(indexed row, query) pairs sharing a band key, each pair once, at most BUCKET rows a bucket."""
        np = self.np
        flat = keys.ravel()
        owner = np.repeat(owners, keys.shape[1])
        pairs = []
        for run_keys, ids in self.runs:
            lo = np.searchsorted(run_keys, flat, side="left")
            size = np.minimum(np.searchsorted(run_keys, flat, side="right") - lo, BUCKET)
            hit = np.flatnonzero(size)
            if len(hit):
                size, lo = size[hit], lo[hit]
                offsets = np.arange(size.sum()) - np.repeat(np.cumsum(size) - size, size)
                rows = ids[np.repeat(lo, size) + offsets].astype(np.int64)
                pairs.append((np.repeat(owner[hit], size) << 32) | rows)
        if not pairs:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        unique = np.unique(np.concatenate(pairs))
        return unique & 0xFFFFFFFF, unique >> 32
