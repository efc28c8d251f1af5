"""Near-duplicate search: MinHash signatures (rensa, Rust) and an LSH index that keeps ~72 bytes a row in memory.

Only one row of each near-duplicate group enters an index (later rows are reported against it), so a run of a
thousand copies costs one candidate per query, not a thousand. The index has two tiers:
- the newest rows (up to RECENT) in a rensa RMinHashLSH, which answers at once, so a row also finds the rows
  just before it in its own batch; rensa keeps ~1 KB a row, so this tier is kept small;
- older rows, moved there between batches: each band of each row as a 4-byte hash and a 4-byte key in sorted
  numpy arrays (64 bytes a row; runs.SortedRuns), queried once a batch for all its rows.
Once an index holds RECENT rows, the digests (512 bytes a row) go to an unnamed temporary file, a batch at a
time; only a candidate's digest is read back, to verify it (rare). So memory is RECENT rows in rensa plus 72 bytes
a row (bands and ref); an index of fewer rows (a small spec's) stays in memory and never imports numpy.
"""

from __future__ import annotations

import os
import tempfile
from array import array
from itertools import chain
from operator import eq

from rensa import RMinHash, RMinHashLSH

NUM_PERM = 128  # estimate error about 0.03 at a Jaccard of 0.9
SEED = 1
SMALL_BATCH = 512
RECENT = 4096  # rows in the first tier (rensa: ~1 KB a row) before they move to the compact one
DIGEST_BYTES = NUM_PERM * 4


def signatures(token_lists: list[list[bytes]]) -> list:
    """One RMinHash per token list: in one call into Rust for a big batch; one by one for a small one, which skips
    starting rensa's thread pool (~15 ms, most of the audit of a small spec). Both give the same digests."""
    if len(token_lists) >= SMALL_BATCH:
        return RMinHash.from_token_sets(token_lists, NUM_PERM, SEED)
    out = []
    for tokens in token_lists:
        signature = RMinHash(NUM_PERM, SEED)
        signature.update(tokens)
        out.append(signature)
    return out


def batch_digests(signatures: list) -> array:
    """The signatures' digests one after the other (NUM_PERM uint32 each), converted from Python ints once."""
    return array("I", chain.from_iterable(signature.digest() for signature in signatures))


def bands_for(threshold: float, num_perm: int = NUM_PERM) -> int:
    """The fewest LSH bands that make a pair at the threshold a candidate with probability >= 0.8 (at 0.9 with 128
    slots: 8 bands of 16, so 0.81 at a Jaccard of 0.9 and 0.99 at 0.95). Each band indexes every row, so bands
    are most of the memory; fewer bands also mean fewer false candidates to verify."""
    for bands in (4, 8, 16, 32, 64):
        rows = num_perm // bands
        if 1 - (1 - threshold**rows) ** bands >= 0.8:
            return bands
    return num_perm // 2


class NearIndex:
    """Similarity is the share of equal digest slots, which is what RMinHash.jaccard computes."""

    def __init__(self, threshold: float, recent: int | None = None):
        self.threshold = threshold
        self.bands = bands_for(threshold)
        self.recent = recent or RECENT
        self._lsh = RMinHashLSH(threshold, NUM_PERM, self.bands)
        self._frozen: FrozenBands | None = None  # made at the first move (it imports numpy)
        self._first = 0  # the first key in the first tier
        self._digests = DigestStore()
        self._refs = array("Q")

    def __len__(self) -> int:
        return len(self._refs)

    def frozen_candidates(self, signatures: list, digests: array | None = None) -> list:
        """For each signature, the keys of the older rows that share a band with it (a batch at a time).
        `digests`: the signatures' digests one after the other, where the caller has them."""
        if self._frozen is None:
            return [()] * len(signatures)
        return self._frozen.candidates(digests if digests is not None else batch_digests(signatures))

    def search(self, signatures: list, refs: list) -> list[tuple[object, float] | None]:
        """find() for each signature in order; one that finds nothing is added under its ref, so the rows after
        it, in this batch too, are checked against it."""
        digests = batch_digests(signatures)
        hits = []
        frozen_candidates = self.frozen_candidates(signatures, digests)
        for i, (signature, ref, frozen) in enumerate(zip(signatures, refs, frozen_candidates, strict=True)):
            digest = digests[i * NUM_PERM:(i + 1) * NUM_PERM]
            hit = self.find(signature, frozen, digest)
            if hit is None:
                self.add(signature, ref, digest)
            hits.append(hit)
        return hits

    def find(self, signature, frozen=(), digest=None) -> tuple[object, float] | None:
        """The earliest indexed row whose estimated Jaccard similarity reaches the threshold, with it. `frozen`:
        this signature's frozen_candidates(), where the batch has asked for them."""
        candidates = self._lsh.query(signature)
        if frozen:
            candidates = [*frozen, *candidates]
        if not candidates:
            return None
        digest = digest if digest is not None else signature.digest()
        for key in sorted(set(candidates)):
            similarity = sum(map(eq, digest, self._digests.get(key))) / NUM_PERM
            if similarity >= self.threshold:
                return self._refs[key], similarity
        return None

    def add(self, signature, ref: int, digest=None) -> None:
        self._lsh.insert(len(self._refs), signature)
        self._digests.append(digest if digest is not None else signature.digest())
        self._refs.append(ref)

    def settle(self) -> None:
        """Between batches: the batch's digests to the file and, once the first tier holds `recent` rows, its
        rows to the compact tier. An index of fewer rows than that keeps them in memory and writes no file."""
        if len(self._refs) < self.recent:
            return
        self._digests.flush()
        if len(self._refs) - self._first < self.recent:
            return
        if self._frozen is None:
            self._frozen = FrozenBands(self.bands)
        self._frozen.add(self._digests.read(self._first, len(self._refs) - self._first), self._first)
        self._first = len(self._refs)
        self._lsh = RMinHashLSH(self.threshold, NUM_PERM, self.bands)


class DigestStore:
    """Each row's digest by key, in an unnamed temporary file; the digests added since the last flush() in
    memory."""

    def __init__(self):
        self.pending = array("I")  # digests of keys written.. on, NUM_PERM values each
        self.written = 0
        self._file = None

    def append(self, digest) -> None:
        self.pending.extend(digest)

    def get(self, key: int):
        if key >= self.written:
            start = (key - self.written) * NUM_PERM
            return self.pending[start:start + NUM_PERM]
        return self.read(key, 1)

    def read(self, first: int, count: int) -> array:
        digests = array("I")
        digests.frombytes(os.pread(self._file.fileno(), count * DIGEST_BYTES, first * DIGEST_BYTES))
        return digests

    def flush(self) -> None:
        if not self.pending:
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="ftspec-digests-")
        os.pwrite(self._file.fileno(), self.pending.tobytes(), self.written * DIGEST_BYTES)
        self.written += len(self.pending) // NUM_PERM
        self.pending = array("I")


class FrozenBands:
    """The bands of older rows as SortedRuns of (band hash, key), 4 bytes each. The hash of a band is a
    multiply-and-add over its slots with random odd multipliers (a different set for each band), top 32 bits: a
    collision only adds a candidate, which the digest then rules out."""

    def __init__(self, bands: int):
        from ftspec.data.runs import SortedRuns

        self.runs = SortedRuns()
        self.np = np = self.runs.np
        self.bands = bands
        self.multipliers = np.random.default_rng(SEED).integers(1, 2**63, NUM_PERM, dtype=np.uint64) * 2 + 1

    def band_hashes(self, digests):
        """(rows, bands) uint32 hashes of (rows, NUM_PERM) uint32 digests."""
        np = self.np
        products = digests.astype(np.uint64) * self.multipliers
        sums = products.reshape(len(digests), self.bands, -1).sum(axis=2, dtype=np.uint64)
        return (sums >> np.uint64(32)).astype(np.uint32)

    def add(self, digests: array, first_key: int) -> None:
        np = self.np
        matrix = np.frombuffer(digests, dtype=np.uint32).reshape(-1, NUM_PERM)
        keys = np.repeat(np.arange(first_key, first_key + len(matrix), dtype=np.uint32), self.bands)
        self.runs.add(self.band_hashes(matrix).ravel(), keys)

    def candidates(self, digests: array) -> list:
        matrix = self.np.frombuffer(digests, dtype=self.np.uint32).reshape(-1, NUM_PERM)
        queries = self.band_hashes(matrix).ravel()
        found: list = [()] * len(matrix)
        for query, (hashes, keys), start in self.runs.matches(queries):
            end = start + 1
            while end < len(hashes) and hashes[end] == hashes[start]:
                end += 1
            row = query // self.bands
            found[row] = [*found[row], *keys[start:end].tolist()]
        return found
