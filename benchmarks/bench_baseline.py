"""The cost of `ftspec baseline` and of its retriever.

1. The ladder on the demo (CPU, the demo's tiny model, the full eval and adversarial sets, batched as the spec says):
   seconds and rows/s per rung, from the script's own clock, and the command's wall time (model load, scoring and
   the bootstrap included).
2. BM25 (bm25s, as baseline.py and rag_eval.py use it) on 100k GPTeacher-sized passages: index time, and queries/s
   for top-3 retrieval, against a plain Python loop over the same scoring (Lucene BM25, k1=1.5, b=0.75, the same
   tokens), which scores every passage for each query; the two must agree on each query's best passage.

The passages: the 7,673 GPTeacher toolformer rows (instruction, input and output joined), repeated with a third of
each copy's words replaced at random, so every passage is distinct.

Usage: python benchmarks/bench_baseline.py [--passages 100000] [--queries 1000] [--loop-queries 20] [--skip-ladder]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GPTEACHER = Path("shared") / "data" / "gpteacher" / "toolformer-dedupe-only.json"
# beside the checkout (/work/main -> /work/shared), or further up for a worktree
SOURCE = next((p / GPTEACHER for p in REPO.parents if (p / GPTEACHER).is_file()), REPO.parent / GPTEACHER)
DEMO = REPO / "specs" / "demo"
K1, B = 1.5, 0.75


def ladder_cost() -> None:
    if not (DEMO / "models" / "tiny-llama").is_dir():
        print("ladder: skipped (make the demo model first: ftspec demo-model specs/demo/models/tiny-llama)")
        return
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch) / "demo"
        shutil.copytree(DEMO, project, ignore=shutil.ignore_patterns("build", "runs", "baselines"))
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "ftspec", "baseline", "project.yaml", "--json"], cwd=project,
                              capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(done.stderr)
        record = json.loads(done.stdout)["baselines"][0]
    print(f"ladder on the demo: {wall:.1f} s for `ftspec baseline` (model load, generation, scoring)")
    for rung in record["rungs"].values():
        rows, seconds = rung["rows"], rung["seconds"]
        print(f"  {rung['label']:<26} {rows} rows in {seconds:.1f} s  ({rows / seconds:.0f} rows/s)")


def passages(count: int, rng: random.Random) -> list[str]:
    rows = json.loads(SOURCE.read_text(encoding="utf-8"))
    texts = [" ".join(str(r.get(k, "")) for k in ("instruction", "input", "output")) for r in rows]
    vocab = [w for text in texts[:2000] for w in text.split()]
    found = list(texts)
    while len(found) < count:
        text = texts[len(found) % len(texts)]
        found.append(" ".join(rng.choice(vocab) if rng.random() < 1 / 3 else w for w in text.split()))
    return found[:count]


class PlainBM25:
    """The same scoring in plain Python: term frequencies per passage, every passage scored for each query."""

    def __init__(self, corpus: list[list[str]]):
        self.tf = [Counter(tokens) for tokens in corpus]
        self.length = [len(tokens) for tokens in corpus]
        self.avg = sum(self.length) / len(corpus)
        df = Counter(term for counts in self.tf for term in counts)
        n = len(corpus)
        self.idf = {term: math.log(1 + (n - d + 0.5) / (d + 0.5)) for term, d in df.items()}

    def search(self, query: list[str], k: int) -> list[int]:
        scores = []
        for i, counts in enumerate(self.tf):
            norm = K1 * (1 - B + B * self.length[i] / self.avg)
            score = 0.0
            for term in query:
                tf = counts.get(term)
                if tf:
                    score += self.idf[term] * tf * (K1 + 1) / (tf + norm)
            scores.append((score, -i))
        return [-i for _, i in sorted(scores, reverse=True)[:k]]


def retrieval_cost(count: int, queries: int, loop_queries: int) -> None:
    import bm25s

    rng = random.Random(0)
    corpus = passages(count, rng)
    asked = [corpus[rng.randrange(len(corpus))].split(".")[0] for _ in range(queries)]
    words = sum(len(p.split()) for p in corpus) / len(corpus)
    print(f"BM25 on {len(corpus):,} passages ({words:.0f} words each on average), top-3")

    started = time.perf_counter()
    corpus_tokens = bm25s.tokenize(corpus, show_progress=False)
    tokenized = time.perf_counter() - started
    index = bm25s.BM25(k1=K1, b=B, method="lucene")
    index.index(corpus_tokens, show_progress=False)
    built = time.perf_counter() - started
    started = time.perf_counter()
    found, _ = index.retrieve(bm25s.tokenize(asked, return_ids=False, show_progress=False), k=3,
                              show_progress=False)
    searched = time.perf_counter() - started
    print(f"  bm25s:       tokenize + index {built:.1f} s ({tokenized:.1f} s tokenizing; "
          f"{len(corpus) / built:,.0f} passages/s); "
          f"{queries} queries in {searched:.2f} s ({queries / searched:,.0f} queries/s)")

    tokens = bm25s.tokenize(corpus, return_ids=False, show_progress=False)
    started = time.perf_counter()
    plain = PlainBM25(tokens)
    built_plain = time.perf_counter() - started
    query_tokens = bm25s.tokenize(asked[:loop_queries], return_ids=False, show_progress=False)
    started = time.perf_counter()
    best = [plain.search(q, 3) for q in query_tokens]
    looped = time.perf_counter() - started
    agree = sum(b[0] == int(f[0]) for b, f in zip(best, found[:loop_queries], strict=True))
    speedup = (queries / searched) / (loop_queries / looped)
    print(f"  plain loop:  index {built_plain:.1f} s (on bm25s's tokens); {loop_queries} queries in {looped:.1f} s "
          f"({loop_queries / looped:.2f} queries/s); bm25s answers {speedup:,.0f}x faster; "
          f"same best passage on {agree}/{loop_queries}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--loop-queries", type=int, default=20)
    parser.add_argument("--skip-ladder", action="store_true")
    args = parser.parse_args()
    if not args.skip_ladder:
        ladder_cost()
    retrieval_cost(args.passages, args.queries, args.loop_queries)


if __name__ == "__main__":
    main()
