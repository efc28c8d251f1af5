"""Novelty and new clusters: the data audit's MinHash over word sets and its LSH index (ftspec.data.neardup).

A production prompt is novel when no training prompt shares at least `monitoring.near_similarity` of its words
(estimated Jaccard of the word sets, the audit's tokenisation: ftspec.data.text.words). Novel prompts are grouped
the same way: each joins the first earlier novel prompt it is near (its cluster's representative) or starts a
cluster. Verdicts are cached by prompt text (production repeats itself), in a bounded dict.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ftspec.data.neardup import NearIndex, signatures

CACHE = 200_000  # prompt texts whose novelty is remembered
MAX_CLUSTERS = 50_000  # representatives indexed; later novel prompts near none of them count as unclustered
EXAMPLES = 3
CLUSTER_SAMPLE = 40  # distinct rows kept per cluster for the re-fine-tune sample


class NoveltyIndex:
    def __init__(self, threshold: float):
        self.index = NearIndex(threshold)
        self._cache: dict[str, bool] = {}

    def add_training(self, token_lists: list[list[bytes]]) -> None:
        """Training prompts in; a prompt near an indexed one is left out (it adds no new neighbourhood)."""
        if token_lists:
            first = len(self.index)
            self.index.search(signatures(token_lists), list(range(first, first + len(token_lists))))
            self.index.settle()

    def novel(self, prompts: list[str], token_lists: list[list[bytes]]) -> tuple[list[bool], dict[int, object]]:
        """Whether each prompt is novel, and the MinHash signature of each novel one computed here (by position),
        for the clusters. A cached prompt has no signature: the clusters compute it."""
        flags: list[bool | None] = [self._cache.get(prompt) for prompt in prompts]
        todo = [i for i, flag in enumerate(flags) if flag is None]
        found = {}
        if todo:
            sigs = signatures([token_lists[i] for i in todo])
            frozen = self.index.frozen_candidates(sigs)
            if len(self._cache) + len(todo) > CACHE:
                self._cache.clear()
            for i, sig, candidates in zip(todo, sigs, frozen, strict=True):
                flag = self.index.find(sig, candidates) is None
                flags[i] = self._cache[prompts[i]] = flag
                if flag:
                    found[i] = sig
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
    """Novel prompts grouped by MinHash LSH at the novelty similarity."""

    def __init__(self, threshold: float):
        self.index = NearIndex(threshold)
        self.clusters: list[Cluster] = []
        self.unclustered = 0
        self._ids: dict[int, int] = {}  # index ref -> cluster id (refs are handed out a batch at a time)
        self._next_ref = 0

    def add(self, rows: list, windows: list[str], token_lists: list[list[bytes]], sigs: dict[int, object]) -> None:
        """Rows are the batch's novel rows, `sigs` their known signatures by position in `rows`."""
        if not rows:
            return
        missing = [i for i in range(len(rows)) if i not in sigs]
        if missing:
            sigs = {**sigs, **dict(zip(missing, signatures([token_lists[i] for i in missing]), strict=True))}
        ordered = [sigs[i] for i in range(len(rows))]
        base = self._next_ref
        if len(self.clusters) < MAX_CLUSTERS:
            self._next_ref += len(rows)
            hits = self.index.search(ordered, list(range(base, base + len(rows))))
        else:  # full: join an existing cluster or stay unclustered
            frozen = self.index.frozen_candidates(ordered)
            hits = [self.index.find(sig, candidates) or False
                    for sig, candidates in zip(ordered, frozen, strict=True)]
        for i, (row, window, hit) in enumerate(zip(rows, windows, hits, strict=True)):
            if hit is False:
                self.unclustered += 1
                continue
            if hit is None:  # a new representative, indexed under ref base + i
                self._ids[base + i] = len(self.clusters)
                self.clusters.append(Cluster(len(self.clusters), window))
            self.clusters[self._ids[base + i] if hit is None else self._ids[hit[0]]].add(window, row)
        self.index.settle()
