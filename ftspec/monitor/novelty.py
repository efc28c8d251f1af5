"""Novelty and new clusters: the data audit's MinHash over word sets and its LSH index (ftspec.data.neardup).

A production prompt is novel when no training prompt shares at least `monitoring.near_similarity` of its words
(estimated Jaccard of the word sets, the audit's tokenisation: ftspec.data.text.words). Novel prompts are grouped
the same way: each joins the first earlier novel prompt it is near (its cluster's representative) or starts a
cluster. Verdicts are cached by prompt text (production repeats itself), in a bounded dict.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ftspec.data.neardup import NUM_PERM, batch_digests, signatures
from ftspec.monitor.bands import BandIndex

CACHE = 200_000  # prompt texts whose novelty is remembered
MAX_CLUSTERS = 50_000  # representatives indexed; later novel prompts near none of them count as unclustered
EXAMPLES = 3
CLUSTER_SAMPLE = 40  # distinct rows kept per cluster for the re-fine-tune sample


def digest_matrix(token_lists: list[list[bytes]], index: BandIndex):
    """The MinHash digests (rows, NUM_PERM) of word lists, by the audit's signatures()."""
    return index.matrix(batch_digests(signatures(token_lists)))


class NoveltyIndex:
    """Every training prompt's bands; a production prompt is novel when none reaches the similarity."""

    def __init__(self, threshold: float):
        self.index = BandIndex(threshold)
        self._cache: dict[int, bool] = {}

    def add_training(self, token_lists: list[list[bytes]]) -> None:
        if token_lists:
            self.index.add(digest_matrix(token_lists, self.index))

    def novel(self, prompts: list[str], token_lists: list[list[bytes]]) -> tuple[list[bool], dict[int, object]]:
        """Whether each prompt is novel, and the digest row of each novel one computed here (by position), for the
        clusters. A cached prompt has none: the clusters compute it."""
        keys = list(map(hash, prompts))  # the cache holds hashes, not texts: ~100 bytes an entry at any length
        flags: list[bool | None] = [self._cache.get(key) for key in keys]
        todo = [i for i, flag in enumerate(flags) if flag is None]
        found = {}
        if todo:
            matrix = digest_matrix([token_lists[i] for i in todo], self.index)
            near, _ = self.index.near(matrix)
            if len(self._cache) + len(todo) > CACHE:
                self._cache.clear()
            for k, (i, is_near) in enumerate(zip(todo, near.tolist(), strict=True)):
                flags[i] = self._cache[keys[i]] = not is_near
                if not is_near:
                    found[i] = matrix[k]
        return flags, found


@dataclass
class Cluster:
    id: int
    first_window: str
    size: int = 0
    windows: dict[str, int] = field(default_factory=dict)
    examples: list[dict] = field(default_factory=list)
    sample: list[dict] = field(default_factory=list)  # distinct prompts, for the re-fine-tune sample
    _texts: set = field(default_factory=set)

    def add(self, window: str, row) -> None:
        self.size += 1
        self.windows[window] = self.windows.get(window, 0) + 1
        if len(self.sample) >= CLUSTER_SAMPLE or row.prompt in self._texts:
            return
        self._texts.add(row.prompt)
        self.sample.append({"prompt": row.prompt, "output": row.output, "file": row.file, "line": row.line,
                            "window": window})
        if len(self.examples) < EXAMPLES:
            self.examples.append({"prompt": row.prompt[:300], "where": f"{row.file}:{row.line}"})

    def to_json(self) -> dict:
        return {"id": self.id, "size": self.size, "first_window": self.first_window, "windows": self.windows,
                "examples": self.examples}


class Clusters:
    """Novel prompts grouped at the novelty similarity: a prompt joins the most similar representative (the first
    prompt of a cluster) that reaches it, else starts a cluster. A batch is matched against earlier batches'
    representatives at once; the rows that match none are grouped among themselves one by one."""

    def __init__(self, threshold: float):
        self.index = BandIndex(threshold)
        self.clusters: list[Cluster] = []
        self.unclustered = 0

    def add(self, rows: list, windows: list[str], token_lists: list[list[bytes]], known: dict[int, object]) -> None:
        """Rows are the batch's novel rows, `known` their digest rows already computed, by position in `rows`."""
        if not rows:
            return
        np = self.index.np
        missing = [i for i in range(len(rows)) if i not in known]
        matrix = np.zeros((len(rows), NUM_PERM), dtype=np.uint32)
        if missing:
            matrix[missing] = digest_matrix([token_lists[i] for i in missing], self.index)
        for i, row in known.items():
            matrix[i] = row
        found, cluster_of = self.index.near(matrix)
        fresh, fresh_low = [], []  # this batch's new representatives: their row and digest's low bits
        needed = self.index.needed
        for i in np.flatnonzero(~found).tolist():
            low = (matrix[i] & 0xFFFF).astype(np.uint16)
            if fresh:
                equal = (np.asarray(fresh_low) == low).sum(axis=1)
                best = int(equal.argmax())
                if equal[best] >= needed:
                    cluster_of[i] = fresh[best][1]
                    continue
            if len(self.clusters) >= MAX_CLUSTERS:
                continue
            cluster_of[i] = len(self.clusters)
            self.clusters.append(Cluster(len(self.clusters), windows[i]))
            fresh.append((i, cluster_of[i]))
            fresh_low.append(low)
        if fresh:  # the index's row ids are cluster ids: representatives are added in cluster order
            self.index.add(matrix[[i for i, _ in fresh]])
        for i, (row, window) in enumerate(zip(rows, windows, strict=True)):
            if cluster_of[i] < 0:
                self.unclustered += 1
            else:
                self.clusters[cluster_of[i]].add(window, row)
