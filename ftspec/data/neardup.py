"""Near-duplicate search: MinHash signatures and an LSH index from rensa (Rust; imports in ~2 ms).

Only one row of each near-duplicate group enters the index (later rows are reported against it), so memory is
one signature per distinct row and a run of a thousand copies costs one candidate per query, not a thousand.
"""

from __future__ import annotations

from array import array
from operator import eq

from rensa import RMinHash, RMinHashLSH

NUM_PERM = 128  # estimate error about 0.03 at a Jaccard of 0.9; 512 bytes a row
SEED = 1
SMALL_BATCH = 512


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


def bands_for(threshold: float, num_perm: int = NUM_PERM) -> int:
    """The fewest LSH bands that make a pair at the threshold a candidate with probability >= 0.8 (at 0.9 with 128
    slots: 8 bands of 16, so 0.81 at a Jaccard of 0.9 and 0.99 at 0.95). Each band indexes every row (~80 bytes
    each in rensa), so bands are most of the memory; fewer bands also mean fewer false candidates to verify."""
    for bands in (4, 8, 16, 32, 64):
        rows = num_perm // bands
        if 1 - (1 - threshold**rows) ** bands >= 0.8:
            return bands
    return num_perm // 2


class NearIndex:
    """Signatures are kept as plain 32-bit digests in one array (512 bytes a row, where a rensa RMinHash object
    costs ~1.2 KB), and similarity is the share of equal slots, which is what RMinHash.jaccard computes."""

    def __init__(self, threshold: float):
        self.threshold = threshold
        self._lsh = RMinHashLSH(threshold, NUM_PERM, bands_for(threshold))
        self._digests = array("I")
        self._refs: list = []

    def __len__(self) -> int:
        return len(self._refs)

    def find(self, signature) -> tuple[object, float] | None:
        """The earliest indexed row whose estimated Jaccard similarity reaches the threshold, with it."""
        candidates = self._lsh.query(signature)
        if not candidates:
            return None
        digest, digests = signature.digest(), self._digests
        for key in sorted(candidates):
            start = key * NUM_PERM
            similarity = sum(map(eq, digest, digests[start:start + NUM_PERM])) / NUM_PERM
            if similarity >= self.threshold:
                return self._refs[key], similarity
        return None

    def add(self, signature, ref: object) -> None:
        self._lsh.insert(len(self._refs), signature)
        self._digests.extend(signature.digest())
        self._refs.append(ref)
