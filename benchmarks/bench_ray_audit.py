"""The data audit on both engines: rows/s on this machine, peak memory per Ray worker, and a paper estimate of a
16-node cluster from the measured per-core throughput and the shuffle volume of an LSH band join.

The corpus: generated instruction rows (random words from a 5,000-word vocabulary, 20-60 words a row), one row in
50 a near copy of an earlier one (a word changed), an eval file of 1% of the rows, 1 in 10 of them also in train.
Each engine runs `ftspec data audit --json` in a fresh subprocess. The local Ray instance has 2 CPUs.

Usage: python benchmarks/bench_ray_audit.py [--rows 200000] [--nodes 16] [--cores-per-node 32]
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
# a band record in the join's shuffle (ray_join.RowBands): bucket and band (8 each), content key (32 hex), the
# digest (512); plus the row's words, estimated by the row's JSON size
BAND_RECORD_BYTES = 8 + 8 + 32 + 512


def make_corpus(root: Path, rows: int, seed: int = 7) -> Path:
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(5000)]
    made: list[dict] = []
    with open(root / "train.jsonl", "w", encoding="utf-8") as out:
        for i in range(rows):
            if made and i % 50 == 0:
                row = dict(rng.choice(made[-1000:]))
                words = row["output"].split()
                words[rng.randrange(len(words))] = rng.choice(vocab)
                row["output"] = " ".join(words)
            else:
                row = {"instruction": " ".join(rng.choices(vocab, k=rng.randint(8, 20))), "input": "",
                       "output": " ".join(rng.choices(vocab, k=rng.randint(12, 40)))}
            if len(made) < 5000 or i % 10 == 0:
                made.append(row)
            out.write(json.dumps(row) + "\n")
    evals = [{"instruction": " ".join(rng.choices(vocab, k=12)), "input": "", "output": "x"}
             for _ in range(rows // 100)]
    evals[::10] = made[: len(evals[::10])]
    (root / "eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in evals), encoding="utf-8")
    spec = root / "project.yaml"
    spec.write_text("ftspec: 1\nname: bench\ndata:\n  format: instruction\n  train: train.jsonl\n"
                    "  eval: eval.jsonl\nmodels:\n  - {name: m, hub: org/model, params: 1B}\n", encoding="utf-8")
    return spec


def run_engine(spec: Path, engine: str) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "ftspec", "data", "audit", str(spec), "--json", "--engine", engine],
                          env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode not in (0, 2):
        raise SystemExit(done.stderr[-2000:])
    report = json.loads(done.stdout)["audit"]
    counts = {f["check"]: f["count"] for f in report["findings"]}
    return {"wall_s": wall, "counts": counts, "engine": report["stats"].get("engine"),
            "driver_peak_mb": (report["stats"].get("engine") or {}).get("driver_peak_mb")}


def paper_estimate(rows: int, measured: dict, nodes: int, cores: int) -> dict:
    """Per-core rows/s of the Ray stages (2 CPUs), scaled to nodes x cores; the LSH band join shuffles every row
    once a band with its digest and words, at an assumed 10 Gbit/s a node; the driver's in-order pass does not
    scale with nodes, so it is reported on its own (driver_s)."""
    from ftspec.data.neardup import bands_for

    bands = bands_for(0.9)
    engine = measured["engine"]
    ray_s = engine.get("sign_s", 0) + engine.get("join_s", 0)
    per_core = rows / ray_s / 2  # the Ray stages alone (signing, band join), Ray's start-up excluded
    # the in-order pass: what is left of the audit after Ray's start, the signing and the band join
    driver_s = max(engine["audit_s"] - engine["start_s"] - engine.get("sign_s", 0) - engine.get("join_s", 0), 1e-9)
    driver_rate = rows / driver_s
    shuffle_bytes_per_row = bands * (BAND_RECORD_BYTES + measured["row_bytes"])
    target = 100_000_000
    compute_s = target / (per_core * nodes * cores)
    shuffle_s = target * shuffle_bytes_per_row / (nodes * 1.25e9)
    return {"bands": bands, "per_core_rows_s": round(per_core), "driver_rows_s": round(driver_rate),
            "driver_s": round(target / driver_rate), "shuffle_bytes_per_row": shuffle_bytes_per_row,
            "rows": target, "shuffle_gb": round(target * shuffle_bytes_per_row / 1e9, 1),
            "compute_s": round(compute_s), "shuffle_s": round(shuffle_s), "nodes": nodes, "cores_per_node": cores}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--nodes", type=int, default=16)
    parser.add_argument("--cores-per-node", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        spec = make_corpus(Path(tmp), args.rows)
        results = {engine: run_engine(spec, engine) for engine in ("local", "ray")}
        results["ray"]["row_bytes"] = (spec.parent / "train.jsonl").stat().st_size // args.rows
    for engine, result in results.items():
        print(f"{engine}: {args.rows} rows in {result['wall_s']:.1f} s = {args.rows / result['wall_s']:,.0f} rows/s; "
              f"findings {result['counts']}")
    assert results["local"]["counts"] == results["ray"]["counts"], "the engines disagree"
    print(f"ray: driver peak RSS {results['ray']['driver_peak_mb']} MB")
    print(f"ray: peak RSS per worker {results['ray']['engine'].get('worker_peak_mb')} MB; {results['ray']['engine']}")
    print("paper estimate:", json.dumps(paper_estimate(args.rows, results["ray"], args.nodes, args.cores_per_node)))


if __name__ == "__main__":
    main()
