"""The vectorised LSH finds what the exact similarity of the digests says is near, and clusters group novel
prompts by topic."""

from __future__ import annotations

import random

import numpy as np

from ftspec.data.neardup import NUM_PERM
from ftspec.data.text import words
from ftspec.monitor.bands import BandIndex
from ftspec.monitor.logs import LogRow
from ftspec.monitor.novelty import Clusters, digest_matrix

VOCAB = [f"w{i}" for i in range(400)]


def _texts(rng: random.Random, count: int, bases: list[list[str]]) -> list[str]:
    """Texts built from a few base texts with a share of the words replaced: similarities spread over 0-1."""
    out = []
    for _ in range(count):
        base = list(rng.choice(bases))
        for k in range(len(base)):
            if rng.random() < rng.random():
                base[k] = rng.choice(VOCAB)
        out.append(" ".join(base))
    return out


def test_near_agrees_with_the_exact_digest_similarity():
    rng = random.Random(5)
    index = BandIndex(0.3)
    bases = [rng.sample(VOCAB, 12) for _ in range(20)]
    train = digest_matrix([words(t) for t in _texts(rng, 600, bases)], index)
    index.add(train[:300])
    index.add(train[300:])  # two runs
    queries = digest_matrix([words(t) for t in _texts(rng, 300, bases)], index)
    found, rows = index.near(queries)
    exact = (queries[:, None, :] == train[None, :, :]).sum(axis=2) / NUM_PERM  # (queries, train)
    truly = exact.max(axis=1) >= 0.3
    hit = np.flatnonzero(found)
    assert (exact[hit, rows[hit]] >= 0.3 - 1e-9).all()  # every neighbour reported is one
    assert (rows[~found] == -1).all()
    recall = found[truly].mean()
    assert truly.sum() > 100 and recall > 0.95
    assert not found[~truly].any()


def _row(prompt: str, line: int) -> LogRow:
    from datetime import date

    return LogRow("logs.jsonl", line, prompt, "{}", date(2026, 1, 5))


def test_clusters_group_novel_prompts_by_topic_within_and_across_batches():
    refunds = [f"please refund my {c} {i} order it arrived broken and damaged" for c in ("red", "blue", "green")
               for i in ("mug", "cap", "scarf")]
    weather = [f"what is the weather in {city} tomorrow morning" for city in ("Paris", "Rome", "Oslo", "Lima")]
    clusters = Clusters(0.3)
    first = refunds[:5] + weather[:2]
    clusters.add([_row(p, i) for i, p in enumerate(first)], ["W1"] * len(first), [words(p) for p in first], {})
    second = refunds[5:] + weather[2:]
    clusters.add([_row(p, 10 + i) for i, p in enumerate(second)], ["W2"] * len(second),
                 [words(p) for p in second], {})
    sizes = sorted(c.size for c in clusters.clusters)
    assert sizes == [len(weather), len(refunds)]
    big = max(clusters.clusters, key=lambda c: c.size)
    assert big.windows == {"W1": 5, "W2": 4} and big.examples[0]["where"] == "logs.jsonl:0"
    assert len({entry["prompt"] for entry in big.sample}) == len(refunds)
