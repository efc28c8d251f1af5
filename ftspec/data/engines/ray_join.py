"""The near-duplicate search as a distributed LSH band join on Ray Data, and the in-order decisions it leaves.

On Ray: each row's words (the local engine's extractor and boilerplate-aware words), its MinHash digest, and one
record a band: (bucket: a hash of the band's slots, the row's content key, digest, words). A groupby on the bucket
brings together the rows that share a band; in each group every pair of distinct contents is verified as
NearIndex does (digest slots equal >= its floor, then the exact Jaccard of the word sets >= the threshold), and a
content seen twice is noted (a row always finds an earlier copy of its own words). What comes back to the driver
is the verified pairs only, a few per near-duplicate row, not an index of every row.

On the driver (NearDecisions): the rows in order, as NearIndex.search decides them: a row's hit is the earliest
indexed row of its split whose content is the row's own or a verified neighbour; a row without a hit is indexed,
one with a hit too where the similarity is below 1 and its group holds fewer than GROUP_CAP rows. A content with
no neighbour and no copy can never be a hit nor find one, so it costs the driver a dictionary miss.

The same findings as the local engine: the candidates differ only where a pair shares no band but the local
engine's 32-bit band hash of its older rows collides (neardup.FrozenBands), and that pair would also have to pass
the digest floor and the exact Jaccard, which for a pair sharing no band of 8 slots out of 16 is near impossible.
Cost: the shuffle carries every row once a band (16 at 0.9) with its digest and words (~0.8 KB); a bucket shared
by n distinct contents (templated rows) verifies n(n-1)/2 pairs.
"""

from __future__ import annotations

import hashlib
from array import array
from operator import eq

from ftspec.data import neardup
from ftspec.data.formats import RowProblem
from ftspec.data.neardup import GROUP_CAP, NUM_PERM, bands_for, estimate_floor, jaccard

REPEAT = ""  # the `b` of a pair record that says: content `a` occurs more than once


def content_key(tokens: list[bytes]) -> str:
    """A row's content key, the same in every process (Python's hash of bytes is salted per process)."""
    return hashlib.blake2b(b"\x00".join(tokens), digest_size=16).hexdigest()


class RowBands:
    """Ray's map step: a record per row and band, for the rows the local engine would search."""

    def __init__(self, extract, boilerplate, records, threshold: float):
        self.extract, self.boilerplate, self.records = extract, boilerplate, records
        self.bands = bands_for(threshold)

    def __call__(self, batch):
        import pandas as pd

        token_lists = []
        for record in self.records(batch):
            try:
                view = self.extract(record)
            except RowProblem:
                continue
            if view is not None:
                texts = (view.prompt, view.target) if view.rejected is None else (
                    view.prompt, view.target, view.rejected)
                token_lists.append(self.boilerplate.words(*texts))
        columns: dict[str, list] = {"bucket": [], "band": [], "key": [], "digest": [], "words": []}
        width = NUM_PERM // self.bands
        for tokens, signature in zip(token_lists, neardup.signatures(token_lists) if token_lists else [],
                                     strict=True):
            digest = array("I", signature.digest()).tobytes()
            key, words = content_key(tokens), b" ".join(tokens)
            for band in range(self.bands):
                piece = digest[band * width * 4:(band + 1) * width * 4]
                bucket = int.from_bytes(hashlib.blake2b(piece, digest_size=8, salt=band.to_bytes(8, "little"))
                                        .digest(), "little", signed=True)
                for name, value in zip(columns, (bucket, band, key, digest, words), strict=True):
                    columns[name].append(value)
        return pd.DataFrame(columns)


class VerifyBucket:
    """Ray's group step: the verified pairs of one bucket (a < b by key), and the contents it holds twice."""

    def __init__(self, threshold: float):
        self.threshold = threshold
        self.floor = estimate_floor(threshold) * NUM_PERM

    def __call__(self, group):
        import pandas as pd

        out: dict[str, list] = {"a": [], "b": [], "similarity": []}
        contents: dict[str, tuple] = {}  # key -> (digest, word set) of its first record here
        repeated = set()
        for key, digest, words, band in zip(group["key"], group["digest"], group["words"], group["band"],
                                            strict=True):
            if key not in contents:
                contents[key] = (array("I", digest), set(words.split()))
            elif band == 0 and key not in repeated:  # band 0's bucket of a content holds every copy of it
                repeated.add(key)
                self._emit(out, key, REPEAT, 1.0)
        ordered = sorted(contents.items())
        for i, (a, (digest_a, words_a)) in enumerate(ordered):
            for b, (digest_b, words_b) in ordered[i + 1:]:
                if sum(map(eq, digest_a, digest_b)) < self.floor:
                    continue
                similarity = jaccard(words_a, words_b)
                if similarity >= self.threshold:
                    self._emit(out, a, b, similarity)
        return pd.DataFrame(out)

    @staticmethod
    def _emit(out: dict, a: str, b: str, similarity: float) -> None:
        out["a"].append(a)
        out["b"].append(b)
        out["similarity"].append(similarity)


def verified_pairs(datasets: list, extract, boilerplate, records, threshold: float) -> list[tuple[str, str, float]]:
    """Every verified pair (a, b, similarity) and every repeated content (a, REPEAT, 1.0) across the datasets."""
    import ray

    rows = datasets[0].union(*datasets[1:]) if len(datasets) > 1 else datasets[0]
    banded = rows.map_batches(RowBands(extract, boilerplate, records, threshold), batch_format="pandas")
    verify = VerifyBucket(threshold)

    def verify_block(block):
        """A block of the shuffle holds every record of its buckets; only buckets of two or more are looked at
        (map_groups would make a call, and a DataFrame, of every bucket: most hold one row)."""
        import pandas as pd

        shared = block[block["bucket"].duplicated(keep=False)]
        found = [verify(group) for _, group in shared.groupby("bucket", sort=False)]
        return pd.concat(found) if found else pd.DataFrame({"a": [], "b": [], "similarity": []})

    found = banded.repartition(_partitions(), keys=["bucket"]).map_batches(verify_block, batch_size=None,
                                                                           batch_format="pandas")
    context = ray.data.DataContext.get_current()
    split_at, context.target_max_block_size = context.target_max_block_size, None  # a bucket never split in two
    out = []
    try:
        for batch in found.iter_batches(batch_size=None, batch_format="pandas"):
            out.extend(zip(batch["a"], batch["b"], batch["similarity"], strict=True))
    finally:
        context.target_max_block_size = split_at
    return out


def _partitions() -> int:
    """The shuffle's partitions: a few a CPU of the cluster, up to Ray's own default of 200 (on a 2-CPU machine
    200 partitions are 200 small tasks each, most of the join's time)."""
    import ray

    return max(4, min(200, 4 * int(ray.cluster_resources().get("CPU", 1))))


class NearDecisions:
    """NearIndex.search's decisions for one audit, made in order on the driver from the verified pairs."""

    def __init__(self, pairs: list[tuple[str, str, float]]):
        self.neighbours: dict[str, dict[str, float]] = {}
        for a, b, similarity in pairs:
            if b == REPEAT:
                self.neighbours.setdefault(a, {})[a] = 1.0
            else:
                self.neighbours.setdefault(a, {})[b] = similarity
                self.neighbours.setdefault(b, {})[a] = similarity
        self.first: dict[str, dict[str, int]] = {}  # split -> content -> ref of its first indexed row
        self.root: dict[int, int] = {}  # ref of an indexed row -> ref of its group's first row
        self.members: dict[int, int] = {}  # ref of a group's first row -> the group's rows in the index

    def search(self, split: str, key: str, ref: int) -> tuple[int, float] | None:
        """The row's hit (the earliest indexed row it is near, with the similarity), indexing the row as NearIndex
        would. Refs grow with the order of the rows, as NearIndex's keys do."""
        near = self.neighbours.get(key)
        if near is None:  # no copy and no neighbour anywhere: never a hit, never found
            return None
        first = self.first.setdefault(split, {})
        found = [(first[other], similarity) for other, similarity in near.items() if other in first]
        if not found:
            self._index(first, key, ref, ref)
            return None
        hit, similarity = min(found)
        root = self.root[hit]
        if similarity < 1.0 and self.members[root] < GROUP_CAP:
            self.members[root] += 1
            self._index(first, key, ref, root)
        return hit, similarity

    def _index(self, first: dict, key: str, ref: int, root: int) -> None:
        first.setdefault(key, ref)
        self.root[ref] = root
        self.members.setdefault(root, 1)
