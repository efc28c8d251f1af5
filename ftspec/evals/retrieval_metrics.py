"""Retrieval metrics for RAG predictions: recall@k and MRR against the gold document ids an eval row names, and
`cites` for answers that must cite a retrieved document as `[id]`.

A prediction row carries `retrieved` (document ids in rank order, as the retriever returned them; a document with
several passages counts once, at its best rank) and `gold_documents` (the ids the eval row names, or null).
"""

from __future__ import annotations

from ftspec.evals.metrics import MISSING, Scored, _per_example


def ranked_documents(retrieved: list[str]) -> list[str]:
    """Document ids in rank order, each once (a document retrieved as several passages keeps its best rank)."""
    return list(dict.fromkeys(str(doc) for doc in retrieved))


def recall_at_k(retrieved: list[str], gold: list[str], k: int | None = None) -> float:
    """Share of the gold documents among the first k retrieved (all retrieved when k is None)."""
    wanted = set(map(str, gold))
    if not wanted:
        raise ValueError("recall@k needs at least one gold document")
    found = ranked_documents(retrieved)[:k]
    return len(wanted.intersection(found)) / len(wanted)


def reciprocal_rank(retrieved: list[str], gold: list[str]) -> float:
    """1 / the rank of the first gold document retrieved; 0 when none is."""
    wanted = set(map(str, gold))
    for rank, doc in enumerate(ranked_documents(retrieved), start=1):
        if doc in wanted:
            return 1.0 / rank
    return 0.0


def cites_retrieved(prediction: str, retrieved: list[str]) -> float:
    """1 when the answer cites one of the retrieved documents as `[id]`, else 0."""
    return float(any(f"[{doc}]" in prediction for doc in ranked_documents(retrieved)))


def _lists(row: dict, *names: str) -> list[list[str]] | None:
    values = [row.get(name) for name in names]
    if any(not isinstance(v, list) for v in values) or not values[-1]:
        return None
    return values


def recall_at_k_metric(rows, metric, ctx) -> Scored:
    def judge(prediction, reference, row):
        found = _lists(row, "retrieved", "gold_documents")
        return MISSING if found is None else recall_at_k(*found)
    return _per_example(rows, judge)


def mrr_metric(rows, metric, ctx) -> Scored:
    def judge(prediction, reference, row):
        found = _lists(row, "retrieved", "gold_documents")
        return MISSING if found is None else reciprocal_rank(*found)
    return _per_example(rows, judge)


def cites_metric(rows, metric, ctx) -> Scored:
    def judge(prediction, reference, row):
        retrieved = row.get("retrieved")
        return MISSING if not isinstance(retrieved, list) else cites_retrieved(prediction, retrieved)
    return _per_example(rows, judge)
