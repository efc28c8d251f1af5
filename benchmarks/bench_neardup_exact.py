"""Near-duplicate quality on real data: the audit's pairs against exact all-pairs Jaccard on GPTeacher.

The truth is computed here, independently of the LSH: every pair of rows of the file, by exact Jaccard similarity of
the audit's own token sets (the words it compares, boilerplate lines left out, learnt by the same audit). Rows that
the audit reports as exact duplicates are left out on both sides (the near-duplicate check skips them).

- precision: reported pairs whose exact Jaccard reaches the threshold, over reported pairs;
- recall: rows that have an earlier row at or above the threshold and are flagged as near duplicates, over such
  rows (a row is what `data clean` drops), with the recall by band of best similarity (threshold..+0.05, ...);
- F1 of the two.

All pairs by sparse matrix products (scipy), a block of rows at a time.

Usage: python benchmarks/bench_neardup_exact.py [--threshold 0.9] [--file PATH]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SOURCE = Path(os.environ.get("FTSPEC_SHARED_DATA", REPO.parent / "shared" / "data")) / "gpteacher" / \
    "toolformer-dedupe-only.json"


def audit(path: Path, threshold: float) -> tuple[dict, list, dict, float]:
    """The audit's reported pairs (row line -> earlier line), the token sets it compared, its exact duplicates."""
    from ftspec.data.audit import Auditor
    from ftspec.spec.load import load_spec

    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "project.yaml"
        spec.write_text(f"ftspec: 1\nname: bench\ndata:\n  format: instruction\n  train: {path}\n  quality:\n"
                        f"    near_duplicate_threshold: {threshold}\nmodels:\n  - {{name: m, hub: x/y, params: 1B}}\n",
                        encoding="utf-8")
        rows: list = []
        auditor = Auditor(load_spec(spec), rows.append)
        started = time.perf_counter()
        auditor.run()
        seconds = time.perf_counter() - started
    reported, tokens, duplicates = {}, {}, set()
    for row in rows:
        for check, message in row.flags or ():
            if check == "near_duplicate":
                reported[row.line] = int(re.search(r":(\d+) \(similarity", message).group(1))
        if row.duplicate:
            duplicates.add(row.line)
        elif row.view is not None:
            tokens[row.line] = set(auditor._words(row.view))
    return reported, tokens, duplicates, seconds


def all_pairs(tokens: dict, threshold: float, block: int = 1024) -> dict[int, float]:
    """For each row, the best exact Jaccard with an earlier row, where it reaches `low` below the threshold."""
    import numpy as np
    from scipy import sparse

    lines = sorted(tokens)
    vocab: dict = {}
    indices, pointers = [], [0]
    for line in lines:
        indices.extend(vocab.setdefault(token, len(vocab)) for token in tokens[line])
        pointers.append(len(indices))
    matrix = sparse.csr_matrix((np.ones(len(indices), dtype=np.int32), indices, pointers),
                               shape=(len(lines), len(vocab)))
    sizes = np.diff(matrix.indptr)
    transposed = matrix.T.tocsc()
    best: dict[int, float] = {}
    for start in range(0, len(lines), block):
        shared = (matrix[start:start + block] @ transposed).toarray()
        union = sizes[start:start + block, None] + sizes[None, :] - shared
        similarity = shared / np.maximum(union, 1)
        for offset, row in enumerate(similarity):
            earlier = row[:start + offset]
            if len(earlier) and (top := earlier.max()) >= threshold - 0.1:
                best[lines[start + offset]] = float(top)
    return best


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def score(reported: dict, tokens: dict, duplicates: set, best: dict, threshold: float) -> dict:
    pairs = {line: jaccard(tokens[line], tokens[earlier]) for line, earlier in reported.items()
             if line in tokens and earlier in tokens}
    correct = sum(value >= threshold for value in pairs.values())
    truth = {line for line, value in best.items() if value >= threshold and line not in duplicates}
    found = len(truth & set(reported))
    precision = correct / len(reported) if reported else 1.0
    recall = found / len(truth) if truth else 1.0
    bands = {}
    edges = sorted({threshold, min(1.0, threshold + 0.05), 1.0})
    for low, high in zip(edges, [*edges[1:], 1.0], strict=True):
        rows = {line for line in truth if low <= best[line] < high or low == high == best[line]}
        name = "1.00" if low == high else f"{low:.2f}-{high:.2f}"
        bands[name] = (len(rows & set(reported)), len(rows))
    near_misses = {line for line, value in best.items() if threshold - 0.05 <= value < threshold}
    return {"reported": len(reported), "correct": correct, "below_threshold": len(reported) - correct,
            "truth": len(truth), "found": found, "precision": precision, "recall": recall,
            "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0, "bands": bands,
            "flagged_just_below": len(near_misses & set(reported)), "just_below": len(near_misses)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--file", type=Path, default=SOURCE)
    args = parser.parse_args()
    reported, tokens, duplicates, seconds = audit(args.file, args.threshold)
    best = all_pairs(tokens, args.threshold)
    result = score(reported, tokens, duplicates, best, args.threshold)
    print(f"rows {len(tokens) + len(duplicates):,} ({len(duplicates):,} exact duplicates left out), "
          f"threshold {args.threshold}, audit {seconds:.2f} s")
    print(f"reported pairs {result['reported']}, at or above the threshold {result['correct']}, "
          f"below it {result['below_threshold']}")
    print(f"precision {result['precision']:.3f}  recall {result['recall']:.3f} ({result['found']}/{result['truth']} "
          f"rows)  F1 {result['f1']:.3f}")
    for band, (found, total) in result["bands"].items():
        print(f"  recall for rows whose best earlier match is {band}: {found}/{total}")
    print(f"  rows whose best match is within 0.05 below the threshold, flagged: "
          f"{result['flagged_just_below']}/{result['just_below']}")


if __name__ == "__main__":
    main()
