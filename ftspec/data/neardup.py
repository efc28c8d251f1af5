"""Near-duplicate search: MinHash signatures (rensa, Rust) and an LSH index that keeps ~144 bytes a row in memory.

MinHash and LSH only propose candidates; a pair is reported when the exact Jaccard similarity of the two rows'
token sets reaches the threshold, so no reported pair is below the threshold the user set. The LSH is tuned for
recall (a pair at the threshold is a candidate with probability >= 0.999) and a candidate's digest is a cheap
first filter with a margin of four standard errors below the threshold; the exact comparison decides.

A row that finds an earlier one still enters the index, so a later row that is near it (and not near the first) is
found too; but not a row with the same words as the one it found, and no more than GROUP_CAP rows of a group, so a
run of a thousand copies costs a few candidates per query, not a thousand. The index has two tiers:
- the newest rows (up to RECENT) in a rensa RMinHashLSH, which answers at once, so a row also finds the rows
  just before it in its own batch; rensa keeps ~1 KB a row, so this tier is kept small;
- older rows, moved there between batches: each band of each row as a 4-byte hash and a 4-byte key in sorted
  numpy arrays (128 bytes a row; runs.SortedRuns), queried once a batch for all its rows.
Once an index holds RECENT rows, the digests (512 bytes a row) and the token lists (the row's words) go to unnamed
temporary files, a batch at a time; only a candidate's are read back, to verify it. So memory is RECENT rows in
rensa plus 144 bytes a row (bands, ref, token offset); an index of fewer rows (a small spec's) stays in memory and
never imports numpy.
"""

from __future__ import annotations

import math
import mmap
import os
import tempfile
from array import array
from bisect import bisect_left
from itertools import chain
from operator import eq

from rensa import RMinHash, RMinHashLSH

NUM_PERM = 128  # estimate error about 0.03 at a Jaccard of 0.9
SEED = 1
SMALL_BATCH = 512
RECENT = 4096  # rows in the first tier (rensa: ~1 KB a row) before they move to the compact one
GROUP_CAP = 32  # rows of one near-duplicate group in an index
MANY_CANDIDATES = 16  # candidates of a row past which their digests are compared with numpy
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
    """The fewest LSH bands that make a pair at the threshold a candidate with probability >= 0.999 (at 0.9 with
    128 slots: 16 bands of 8, so 0.9999 at a Jaccard of 0.9 and 0.994 at 0.85). Each band indexes every row, so
    bands are most of the memory; fewer bands also mean fewer false candidates to verify."""
    for bands in (4, 8, 16, 32, 64):
        rows = num_perm // bands
        if 1 - (1 - threshold**rows) ** bands >= 0.999:
            return bands
    return num_perm // 2


def estimate_floor(threshold: float, num_perm: int = NUM_PERM) -> float:
    """The lowest MinHash estimate worth an exact comparison: four standard errors of the estimate below the
    threshold (0.89 -> 0.79 at 0.9 with 128 slots), so a pair at the threshold is dropped here once in ~30,000."""
    return threshold - 4 * math.sqrt(threshold * (1 - threshold) / num_perm) - 1 / num_perm


def jaccard(a: set, b: set) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 1.0


class NearIndex:
    """Similarity is the share of equal digest slots, which is what RMinHash.jaccard computes."""

    def __init__(self, threshold: float, recent: int | None = None):
        self.threshold = threshold
        self.bands = bands_for(threshold)
        self.floor = estimate_floor(threshold) * NUM_PERM  # in equal digest slots
        self.recent = recent or RECENT
        self._lsh = RMinHashLSH(threshold, NUM_PERM, self.bands)
        self._frozen: FrozenBands | None = None  # made at the first move (it imports numpy)
        self._first = 0  # the first key in the first tier
        self._digests = DigestStore()
        self._tokens = TokenStore()
        self._refs = array("Q")
        self._roots = array("I")  # each key's group: the key of the group's first row
        self._members = array("H")  # at a group's first key, the group's rows in the index

    def __len__(self) -> int:
        return len(self._refs)

    def frozen_candidates(self, signatures: list, digests: array | None = None) -> list:
        """For each signature, the keys of the older rows that share a band with it (a batch at a time).
        `digests`: the signatures' digests one after the other, where the caller has them."""
        if self._frozen is None:
            return [()] * len(signatures)
        return self._frozen.candidates(digests if digests is not None else batch_digests(signatures))

    def search(self, signatures: list, refs: list, token_lists: list) -> list[tuple[object, float] | None]:
        """find() for each signature in order; one that finds nothing is added under its ref, so the rows after
        it, in this batch too, are checked against it. `token_lists`: the words each signature was made of."""
        digests = batch_digests(signatures)
        hits = []
        frozen_candidates = self.frozen_candidates(signatures, digests)
        for i, (signature, ref, tokens, frozen) in enumerate(zip(signatures, refs, token_lists, frozen_candidates,
                                                                strict=True)):
            digest = digests[i * NUM_PERM:(i + 1) * NUM_PERM]
            hit = self._find(signature, tokens, frozen, digest)
            if hit is None:
                self.add(signature, ref, tokens, digest)
                hits.append(None)
                continue
            key, similarity = hit
            root = self._roots[key]
            if similarity < 1.0 and self._members[root] < GROUP_CAP:
                self._members[root] += 1
                self.add(signature, ref, tokens, digest, root)
            hits.append((self._refs[key], similarity))
        return hits

    def find(self, signature, tokens: list, frozen=(), digest=None) -> tuple[object, float] | None:
        """The earliest indexed row whose exact Jaccard similarity with `tokens` reaches the threshold, with it.
        `frozen`: this signature's frozen_candidates(), where the batch has asked for them."""
        hit = self._find(signature, tokens, frozen, digest)
        return None if hit is None else (self._refs[hit[0]], hit[1])

    def _find(self, signature, tokens: list, frozen=(), digest=None) -> tuple[int, float] | None:
        candidates = self._lsh.query(signature)
        if frozen:
            candidates = [*frozen, *candidates]
        if not candidates:
            return None
        digest = digest if digest is not None else signature.digest()
        keys = sorted(set(candidates))
        words = None
        for key in self._likely(keys, digest):
            words = words if words is not None else set(tokens)
            similarity = jaccard(words, set(self._tokens.get(key).split()))
            if similarity >= self.threshold:
                return key, similarity
        return None

    def _likely(self, keys: list, digest) -> list:
        """The keys whose digest shares at least `floor` slots with this one, in order: compared one by one for a
        few keys, as one numpy comparison for many (templated data: dozens of candidates a row) once the index has
        imported numpy for its compact tier (a small index never does)."""
        if len(keys) <= MANY_CANDIDATES or self._frozen is None:
            return [key for key in keys if sum(map(eq, digest, self._digests.get(key))) >= self.floor]
        import numpy as np

        matrix = self._digests.matrix(keys, np)
        equal = np.count_nonzero(matrix == np.asarray(digest, dtype=np.uint32), axis=1)
        return [keys[i] for i in np.flatnonzero(equal >= self.floor).tolist()]

    def add(self, signature, ref: int, tokens: list, digest=None, root: int | None = None) -> None:
        """Index a row under `ref`: a group's first row, or (root: that row's key) a later member."""
        key = len(self._refs)
        self._roots.append(key if root is None else root)
        self._members.append(1)
        self._lsh.insert(key, signature)
        self._digests.append(digest if digest is not None else signature.digest())
        self._tokens.append(tokens)
        self._refs.append(ref)

    def settle(self) -> None:
        """Between batches: the batch's digests to the file and, once the first tier holds `recent` rows, its
        rows to the compact tier. An index of fewer rows than that keeps them in memory and writes no file."""
        if len(self._refs) < self.recent:
            return
        self._digests.flush()
        self._tokens.flush()
        if len(self._refs) - self._first < self.recent:
            return
        if self._frozen is None:
            self._frozen = FrozenBands(self.bands)
        self._frozen.add(self._digests.read(self._first, len(self._refs) - self._first), self._first)
        self._first = len(self._refs)
        self._lsh = RMinHashLSH(self.threshold, NUM_PERM, self.bands)


class DigestStore:
    """Each row's digest by key, in an unnamed temporary file; the digests added since the last flush() in
    memory. Many digests at once (matrix()) are one fancy index into a read-only map of the file: no system call
    each, and its pages are the kernel's to drop."""

    def __init__(self):
        self.pending = array("I")  # digests of keys written.. on, NUM_PERM values each
        self.written = 0
        self._file = None
        self._map = None  # mmap of the file's first `written` digests

    def append(self, digest) -> None:
        self.pending.extend(digest)

    def get(self, key: int):
        if key >= self.written:
            start = (key - self.written) * NUM_PERM
            return self.pending[start:start + NUM_PERM]
        return self.read(key, 1)

    def matrix(self, keys: list, np):
        """The digests of these keys (sorted), a row each: one fancy index into the map for the written ones."""
        older = bisect_left(keys, self.written)
        parts = []
        if older:
            parts.append(np.frombuffer(self._map, dtype=np.uint32).reshape(-1, NUM_PERM)[keys[:older]])
        if older < len(keys):
            pending = np.frombuffer(self.pending, dtype=np.uint32).reshape(-1, NUM_PERM)
            parts.append(pending[np.asarray(keys[older:]) - self.written])
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

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
        if self._map is not None:
            self._map.close()
        self._map = mmap.mmap(self._file.fileno(), self.written * DIGEST_BYTES, access=mmap.ACCESS_READ)


class TokenStore:
    """Each row's words by key, joined by spaces (a word never holds whitespace), in an unnamed temporary file; the
    rows added since the last flush() in memory. In memory: one 8-byte offset a row."""

    def __init__(self):
        self.starts = array("Q")  # each key's first byte
        self.pending = bytearray()  # the bytes from `written` on
        self.written = 0
        self.end = 0
        self._file = None

    def append(self, tokens: list) -> None:
        self.starts.append(self.end)
        joined = b" ".join(tokens)
        self.pending += joined
        self.end += len(joined)

    def get(self, key: int) -> bytes:
        start = self.starts[key]
        end = self.starts[key + 1] if key + 1 < len(self.starts) else self.end
        if start >= self.written:
            return bytes(self.pending[start - self.written:end - self.written])
        return os.pread(self._file.fileno(), end - start, start)

    def flush(self) -> None:
        if not self.pending:
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="ftspec-tokens-")
        os.pwrite(self._file.fileno(), self.pending, self.written)
        self.written = self.end
        self.pending = bytearray()


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
