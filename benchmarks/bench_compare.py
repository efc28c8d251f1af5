"""`ftspec compare` on 10k rows x 10 metrics x 1,000 bootstrap resamples (goal: the statistics <= 2 s on 2 cores).

Two crafted runs of N fine-tuned rows each (JSON answers; run B fixes some of A's wrong rows and breaks a few);
the spec gates ten metrics: exact_match, token_f1, json_valid, five contains/regex patterns, perplexity and
latency_p95 (the last two take the generic paired-bootstrap path, the eight mean metrics the shared
`counts @ scores` path). Figures, best of --repeat:
- statistics: compare_cells alone (CIs, paired tests, Holm, changed rows) on already scored runs;
- whole command: `ftspec compare A B --json` in a fresh process (reading, scoring, statistics, HTML).

Usage: python benchmarks/bench_compare.py [--rows 10000] [--samples 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

METRICS = [{"name": "exact_match", "threshold": 0.5}, {"name": "token_f1", "threshold": 0.5},
           {"name": "json_valid", "threshold": 0.5},
           *({"name": "contains", "pattern": p, "threshold": 0.1} for p in ('"red"', '"blue"', '"qty": 1')),
           *({"name": "regex", "pattern": p, "threshold": 0.1} for p in (r'\{.*\}', r'.*"item": "[a-z]+".*')),
           {"name": "perplexity", "threshold": "<= 100"}, {"name": "latency_p95", "threshold": "<= 1000"}]


def _answer(rng: random.Random) -> str:
    return json.dumps({"item": rng.choice(["mug", "hat", "sock", "lamp"]), "colour": rng.choice(["red", "blue"]),
                       "qty": rng.randint(1, 3)})


def make_project(root: Path, rows: int, samples: int) -> Path:
    rng = random.Random(0)
    (root / "data").mkdir(parents=True)
    for name in ("train", "eval"):
        (root / "data" / f"{name}.jsonl").write_text(json.dumps({"prompt": "p", "completion": "c"}) + "\n")
    spec = {"ftspec": 1, "name": "bench", "models": [{"name": "m", "hub": "o/m", "params": "1M"}],
            "data": {"format": "prompt_completion", "train": "data/train.jsonl", "eval": "data/eval.jsonl"},
            "metrics": METRICS, "evaluation": {"bootstrap_samples": samples}}
    (root / "project.yaml").write_text(json.dumps(spec))
    refs = [_answer(rng) for _ in range(rows)]
    wrong_a = {i for i in range(rows) if rng.random() < 0.2}
    wrong_b = {i for i in wrong_a if rng.random() < 0.6} | {i for i in range(rows) if rng.random() < 0.03}
    for run_id, wrong in (("20250101-000000-aaaa", wrong_a), ("20250102-000000-bbbb", wrong_b)):
        folder = root / "runs" / run_id
        folder.mkdir(parents=True)
        with open(folder / "predictions.jsonl", "w") as out:
            for i, ref in enumerate(refs):
                pred = _answer(rng) if i in wrong else ref
                out.write(json.dumps({"model": "finetuned", "slice": "all", "id": f"eval-{i}", "tags": [],
                                      "prompt": "p", "reference": ref, "prediction": pred,
                                      "latency_ms": rng.uniform(20, 80), "error": None,
                                      "nll": rng.uniform(1, 3), "ref_tokens": 12}) + "\n")
    return root / "project.yaml"


def time_statistics(spec: Path, repeat: int) -> tuple[float, float]:
    from ftspec.runtime.rundir import Runs
    from ftspec.spec.load import load_spec
    from ftspec.versions.compare import comparison_plan, eval_set_difference, load_run
    from ftspec.versions.pairing import compare_cells

    loaded = load_spec(spec)
    runs = [run for run, _ in Runs.for_spec(loaded.path).list()]
    started = time.perf_counter()
    a, b = load_run(loaded, runs[0]), load_run(loaded, runs[1])
    plan = comparison_plan(loaded.spec)
    for metric, s in plan:  # score every cell once, so the timing below is the statistics alone
        a.scorer.cell("finetuned", s, metric), b.scorer.cell("finetuned", s, metric)
    scoring = time.perf_counter() - started
    shared = eval_set_difference(a, b)["_shared"]
    settings = {"confidence": 0.95, "samples": loaded.spec.evaluation.bootstrap_samples, "seed": 42}
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        metrics, _, _ = compare_cells(a, b, plan, shared, settings)
        best = min(best, time.perf_counter() - started)
    assert len(metrics) == len(METRICS)
    return best, scoring


def time_command(spec: Path, repeat: int) -> float:
    best = float("inf")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "ftspec", "compare", "20250101", "20250102", "--spec", str(spec),
                               "--json"], capture_output=True, text=True, env=env)
        best = min(best, time.perf_counter() - started)
        assert done.returncode == 0, done.stderr
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        spec = make_project(Path(tmp), args.rows, args.samples)
        stats_s, scoring_s = time_statistics(spec, args.repeat)
        command_s = time_command(spec, args.repeat)
    print(f"compare: {args.rows} rows x {len(METRICS)} metrics x {args.samples} resamples")
    print(f"  statistics (CIs, paired tests, Holm, changed rows): {stats_s:.2f} s (goal <= 2 s)")
    print(f"  reading and scoring both runs: {scoring_s:.2f} s")
    print(f"  whole `ftspec compare --json` in a fresh process: {command_s:.2f} s")


if __name__ == "__main__":
    main()
