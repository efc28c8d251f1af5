"""Batched vs one-by-one generation in the generated eval.py, on CPU, with the demo's tiny base model.

Both runs use the same build, rows and greedy settings; only --batch-size differs. The figure is the summed
per-example generation time that eval.py records (latency_ms), so model loading is left out of both.
Goal: batched generation 5x or more faster.
Usage: python benchmarks/bench_generation.py [--rows 64] [--batch-size 16]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "specs" / "demo"


def ftspec(*args: str, cwd: Path) -> None:
    subprocess.run([sys.executable, "-m", "ftspec", *args], cwd=cwd, check=True, capture_output=True, text=True)


def generate(build: Path, run: Path, batch_size: int, rows: int) -> dict:
    run.mkdir(parents=True)
    started = time.perf_counter()
    threads = {**os.environ, "OMP_NUM_THREADS": "1"}  # oversubscribed OpenMP threads swing timings 20x
    subprocess.run([sys.executable, "eval.py", "--output-dir", str(run), "--models", "base_zero_shot",
                    "--batch-size", str(batch_size), "--max-examples", str(rows)], cwd=build, check=True,
                   capture_output=True, text=True, env=threads)
    wall = time.perf_counter() - started
    records = [json.loads(line) for line in (run / "predictions.jsonl").read_text().splitlines()]
    records = [r for r in records if r["slice"] == "all"]
    generation_s = sum(r["latency_ms"] for r in records) / 1000
    return {"batch_size": batch_size, "rows": len(records), "generation_s": generation_s, "process_wall_s": wall,
            "rows_per_s": len(records) / generation_s}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from ftspec.demo.model import make_demo_model

    make_demo_model(DEMO / "models" / "tiny-llama")
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "demo"
        shutil.copytree(DEMO, project, ignore=shutil.ignore_patterns("build", "runs"))
        ftspec("build", "project.yaml", cwd=project)
        build = project / "build"
        batched = generate(build, Path(tmp) / "batched", args.batch_size, args.rows)
        single = generate(build, Path(tmp) / "single", 1, args.rows)
    speedup = single["generation_s"] / batched["generation_s"]
    for result in (single, batched):
        print(f"batch size {result['batch_size']:>3}: {result['rows']} rows generated in {result['generation_s']:.2f} s"
              f" ({result['rows_per_s']:.1f} rows/s; eval.py process {result['process_wall_s']:.1f} s)")
    verdict = "met" if speedup >= 5 else "NOT met"
    print(f"batched generation is {speedup:.1f}x faster than one by one; goal (>= 5x) {verdict}")
    print(json.dumps({"single": single, "batched": batched, "speedup": speedup}))


if __name__ == "__main__":
    main()
