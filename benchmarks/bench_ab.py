"""`ftspec ab` on a 1M-row production log (goal: <= 10 s on 2 cores, bounded memory).

The log: N rows of {variant, outcome (0/1), latency_ms, user_id, timestamp}, users returning ~5 times each (so the
analysis is clustered). Each figure is one fresh `ftspec ab LOG --json` process, best of --repeat; peak RSS is the
child's (ru_maxrss). The same run on a tenth of the rows shows how memory grows with the log: by the compact
per-row arrays (16 bytes a row), not by Python objects.

Usage: python benchmarks/bench_ab.py [--rows 1000000] [--repeat 2] [--format jsonl|csv]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def make_log(path: Path, rows: int, fmt: str) -> None:
    rng = random.Random(0)
    users = max(1, rows // 5)
    with open(path, "w", encoding="utf-8") as out:
        if fmt == "csv":
            out.write("variant,outcome,latency_ms,user_id,timestamp\n")
        for i in range(rows):
            user = rng.randrange(users)
            variant = "A" if user % 2 else "B"
            success = int(rng.random() < (0.20 if variant == "A" else 0.205))
            latency = round(rng.gauss(120 if variant == "A" else 118, 30), 2)
            if fmt == "csv":
                out.write(f"{variant},{success},{latency},u{user},{1700000000 + i}\n")
            else:
                out.write(json.dumps({"variant": variant, "outcome": success, "latency_ms": latency,
                                      "user_id": f"u{user}", "timestamp": 1700000000 + i}) + "\n")


def run_ab(log: Path, *extra: str) -> tuple[float, float, dict]:
    """(seconds, peak RSS in MB, result) of one `ftspec ab` process."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "2"}
    code = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
            "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
            "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
            "print(p.stdout)")
    done = subprocess.run([sys.executable, "-c", code, sys.executable, "-m", "ftspec", "ab", str(log), "--json",
                           *extra], capture_output=True, text=True, env=env)
    first, _, rest = done.stdout.partition("\n")
    seconds, rss_kb = first.split()
    return float(seconds), int(rss_kb) / 1024, json.loads(rest)


def best(log: Path, repeat: int, *extra: str) -> tuple[float, float, dict]:
    runs = [run_ab(log, *extra) for _ in range(repeat)]
    return min(r[0] for r in runs), max(r[1] for r in runs), runs[-1][2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        big, small = Path(tmp) / f"big.{args.format}", Path(tmp) / f"small.{args.format}"
        started = time.perf_counter()
        make_log(big, args.rows, args.format)
        make_log(small, args.rows // 10, args.format)
        made = time.perf_counter() - started
        size_mb = big.stat().st_size / 1e6
        small_s, small_rss, _ = best(small, args.repeat)
        big_s, big_rss, result = best(big, args.repeat)
        latency_s, latency_rss, _ = best(big, 1, "--metric", "latency_ms")
    print(f"ab: {args.rows} rows ({size_mb:.0f} MB {args.format}, made in {made:.1f} s), "
          f"{result['variants'][0]['users'] + result['variants'][1]['users']} users, clustered={result['clustered']}")
    print(f"  success flag: {big_s:.2f} s (goal <= 10 s), peak RSS {big_rss:.0f} MB; "
          f"verdict {result['verdict']!r}, p {result['p_value']:.3g}")
    print(f"  latency (continuous, Welch + Mann-Whitney): {latency_s:.2f} s, peak RSS {latency_rss:.0f} MB")
    print(f"  a tenth of the rows: {small_s:.2f} s, peak RSS {small_rss:.0f} MB "
          f"(+{(big_rss - small_rss) / (0.9 * args.rows) * 1e6:.0f} bytes a row)")
    print(f"  rows/s: {args.rows / big_s:,.0f}; resource limits: {resource.getrlimit(resource.RLIMIT_AS)[0]}")


if __name__ == "__main__":
    main()
