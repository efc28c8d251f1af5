"""Data audit throughput, near-duplicate quality and memory on a 100k-row JSONL built from GPTeacher.

The file: the 7,673 GPTeacher toolformer rows, repeated with a third of the words of each copy's task, input and
output replaced at random (so copies are distinct rows), plus PLANTED rows that each copy an earlier row with one
small edit (a word inserted, deleted or substituted, or punctuation and case changed on a few words).

Figures (each measured in a fresh subprocess, best of --repeat):
- exact checks: the audit with near_duplicate, leakage, too_long and encoding off, vs a bare `json.loads` loop over the
  same file (goal >= 50% of its rows/s);
- near-duplicate stage: rows/s of the MinHash + LSH stage alone, and of the whole audit with it on
  (goal >= 20k rows/s on 2 cores);
- precision / recall / F1 of the reported pairs (goal F1 >= 0.9): a pair is right when its exact Jaccard, on the
  same words the audit compares, reaches the threshold; recall counts the planted pairs above the threshold that
  were flagged;
- peak memory: the child's peak RSS (VmHWM) and Python's own peak (tracemalloc);
- the encoding check's cost: CPU of the whole audit with it on and off (MOJIBAKE of the rows carry mojibake).

Usage: python benchmarks/bench_audit.py [--rows 100000] [--planted 5000] [--repeat 3]
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

SHARED_DATA = os.environ.get("FTSPEC_SHARED_DATA") or Path(__file__).resolve().parents[1].parent / "shared" / "data"
SOURCE = Path(SHARED_DATA) / "gpteacher" / "toolformer-dedupe-only.json"
REPO = Path(__file__).resolve().parents[1]
SPEC = """ftspec: 1
name: bench
data:
  format: instruction
  train: bench.jsonl
  quality: {{severity: {severity}}}
models:
  - {{name: m, hub: x/y, params: 1B}}
"""


# -- building the file -------------------------------------------------------------------------------------------

def _replace_words(text: str, share: float, vocab: list[str], rng: random.Random) -> str:
    return " ".join(rng.choice(vocab) if rng.random() < share else w for w in text.split(" "))


def _distinct_copy(row: dict, vocab: list[str], rng: random.Random) -> dict:
    *preamble, task = row["instruction"].split("\n")
    task = _replace_words(task, 0.35, vocab, rng)
    return {"instruction": "\n".join([*preamble, task]), "input": _replace_words(row["input"], 0.35, vocab, rng),
            "output": _replace_words(row["output"], 0.35, vocab, rng)}


def _small_edit(row: dict, vocab: list[str], rng: random.Random) -> tuple[dict, str]:
    edited = dict(row)
    words = row["output"].split(" ")
    kind = rng.choice(["insert", "delete", "substitute", "punctuation"])
    at = rng.randrange(len(words))
    if kind == "insert":
        words.insert(at, rng.choice(vocab))
    elif kind == "delete" and len(words) > 1:
        del words[at]
    elif kind == "substitute":
        words[at] = rng.choice(vocab)
    else:
        for i in rng.sample(range(len(words)), min(3, len(words))):
            words[i] = words[i].upper() + rng.choice([",", ".", "!", ";"])
    edited["output"] = " ".join(words)
    return edited, kind


MOJIBAKE = 0.01  # share of the background rows whose output gets mojibake (UTF-8 read as Windows-1252)


def _garble(row: dict) -> dict:
    return {**row, "output": row["output"] + " (50\u00b0F, x\u00b2)".encode().decode("cp1252")}


def build(path: Path, total: int, planted: int, seed: int = 0) -> list[tuple[int, int]]:
    """Write the file; return the planted pairs as (original line, copy line)."""
    rng = random.Random(seed)
    base = json.loads(SOURCE.read_text(encoding="utf-8"))
    vocab = sorted({w for row in base for w in row["output"].split() if w.isalpha()})
    background = total - planted
    rows = [base[i % len(base)] if i < len(base) else _distinct_copy(base[i % len(base)], vocab, rng)
            for i in range(background)]
    rows = [_garble(row) if rng.random() < MOJIBAKE else row for row in rows]
    # Each copy goes up to 5,000 rows after its original: often in a later batch of the audit.
    entries = [(float(i), i, row) for i, row in enumerate(rows)]
    for original in rng.sample(range(background), planted):
        entries.append((original + rng.uniform(1, 5000), original, _small_edit(rows[original], vocab, rng)[0]))
    entries.sort(key=lambda entry: entry[0])
    line_of, pairs, lines = {}, [], []
    for number, (key, source, row) in enumerate(entries, 1):
        lines.append(json.dumps(row))
        if key == source:
            line_of[source] = number
        else:
            pairs.append((line_of[source], number))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return pairs


# -- the measurements, each in a child process -------------------------------------------------------------------

def child(mode: str, folder: Path) -> dict:
    import tracemalloc

    path = folder / "bench.jsonl"
    if mode in ("json", "json_text"):
        start, cpu = time.perf_counter(), time.process_time()
        with path.open("rb" if mode == "json" else "r", encoding=None if mode == "json" else "utf-8") as handle:
            rows = sum(1 for line in handle if json.loads(line) is not None)
        return {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu, "rows": rows}
    from ftspec.data.audit import Auditor
    from ftspec.spec.load import load_spec

    tracemalloc.start() if mode == "memory" else None
    auditor = Auditor(load_spec(folder / f"{mode if mode in ('exact', 'noencoding') else 'full'}.yaml"),
                      sink=_pair_sink(pairs := []) if mode == "full" else None)
    near_seconds, near_cpu = [0.0], [0.0]
    if mode == "full":
        inner = auditor._near_duplicates

        def timed(rows):
            start, cpu = time.perf_counter(), time.process_time()
            inner(rows)
            near_seconds[0] += time.perf_counter() - start
            near_cpu[0] += time.process_time() - cpu

        auditor._near_duplicates = timed
    start, cpu = time.perf_counter(), time.process_time()
    report = auditor.run()
    seconds = time.perf_counter() - start
    out = {"seconds": seconds, "cpu": time.process_time() - cpu, "rows": sum(report.stats["rows"].values()),
           "near_seconds": near_seconds[0], "near_cpu": near_cpu[0],
           "encoding_rows": sum(f.count for f in report.findings if f.check == "encoding"),
           "max_rss_mb": _peak_rss_mb()}
    if mode == "memory":
        out["python_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    if mode == "full":
        out["pairs"] = pairs
        out["boilerplate"] = sorted(auditor.boilerplate.lines)
    return out


def _peak_rss_mb() -> float:
    """VmHWM of this process; ru_maxrss can carry over the parent's peak across fork and exec on Linux."""
    import resource

    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _pair_sink(pairs: list):
    def sink(row) -> None:
        for check, message in row.flags or ():
            if check == "near_duplicate":
                pairs.append((int(message.split(":")[1].split(" ")[0]), row.line))

    return sink


def run_child(mode: str, folder: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", mode, "--folder", str(folder)], capture_output=True,
                          text=True, cwd=REPO)
    if done.returncode:
        sys.exit(f"child {mode} failed:\n{done.stderr}")
    return json.loads(done.stdout)


# -- scoring -----------------------------------------------------------------------------------------------------

def score(folder: Path, planted: list[tuple[int, int]], reported: list, boilerplate: list[str], threshold: float):
    from ftspec.data.text import Boilerplate

    stripper = Boilerplate()
    stripper.lines = frozenset(boilerplate)
    texts = (folder / "bench.jsonl").read_text(encoding="utf-8").splitlines()

    def tokens(line: int) -> set:
        row = json.loads(texts[line - 1])
        prompt = f"{row['instruction']}\n{row['input']}" if row["input"] else row["instruction"]
        return set(stripper.words(prompt, row["output"]))

    def jaccard(a: int, b: int) -> float:
        x, y = tokens(a), tokens(b)
        return len(x & y) / len(x | y)

    correct = sum(jaccard(a, b) >= threshold for a, b in reported)
    truth = [(a, b) for a, b in planted if jaccard(a, b) >= threshold]
    flagged = {b for _, b in reported}
    found = sum(b in flagged for _, b in truth)
    precision = correct / len(reported) if reported else 0.0
    recall = found / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"reported": len(reported), "correct": correct, "planted": len(planted), "planted_above": len(truth),
            "found": found, "precision": precision, "recall": recall, "f1": f1}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--planted", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child")
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.folder)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        planted = build(folder / "bench.jsonl", args.rows, args.planted)
        (folder / "full.yaml").write_text(SPEC.format(severity="{}"))
        (folder / "exact.yaml").write_text(SPEC.format(severity="{near_duplicate: off, leakage: off, too_long: off, "
                                                          "encoding: off}"))
        (folder / "noencoding.yaml").write_text(SPEC.format(severity="{encoding: off}"))
        best = {}
        for _ in range(args.repeat):  # interleaved, so a busy moment on a shared machine hits every mode alike
            for mode in ("json", "json_text", "exact", "full", "noencoding"):
                result = run_child(mode, folder)
                if mode not in best or result["cpu"] < best[mode]["cpu"]:
                    best[mode] = result
        memory = run_child("memory", folder)
        quality = score(folder, planted, best["full"]["pairs"], best["full"]["boilerplate"], 0.9)
    report(best, memory, quality)


def report(best: dict, memory: dict, quality: dict) -> None:
    """Throughput from CPU time (the machine is shared: wall time swings with the neighbours' load), except the
    near-duplicate stage, whose Rust batches may use both cores: wall time there."""
    rows = best["json"]["rows"]
    json_rate, text_rate = rows / best["json"]["cpu"], rows / best["json_text"]["cpu"]
    exact_rate = best["exact"]["rows"] / best["exact"]["cpu"]
    near_rate = best["full"]["rows"] / best["full"]["near_seconds"]
    full_rate = best["full"]["rows"] / best["full"]["seconds"]
    encoding_us = (best["full"]["cpu"] - best["noencoding"]["cpu"]) / best["full"]["rows"] * 1e6
    per_repair_ms = encoding_us * best["full"]["rows"] / max(1, best["full"]["encoding_rows"]) / 1e3
    table = [
        ("rows in the file", f"{rows:,}", ""),
        ("bare json.loads loop, bytes lines", f"{json_rate:,.0f} rows/s", "open(path, 'rb')"),
        ("bare json.loads loop, text lines", f"{text_rate:,.0f} rows/s", "open(path) (no encoding sniffing)"),
        ("exact checks (audit, near-dup, encoding off)", f"{exact_rate:,.0f} rows/s",
         f"{exact_rate / json_rate:.0%} / {exact_rate / text_rate:.0%} of the two loops (goal >= 50%)"),
        ("near-duplicate stage alone", f"{near_rate:,.0f} rows/s",
         f"wall; goal >= 20,000 rows/s ({best['full']['rows'] / best['full']['near_cpu']:,.0f} rows/s of CPU time)"),
        ("whole audit, every check", f"{full_rate:,.0f} rows/s", f"wall {best['full']['seconds']:.2f} s"),
        ("near-dup precision", f"{quality['precision']:.3f}", f"{quality['correct']}/{quality['reported']} pairs"),
        ("near-dup recall", f"{quality['recall']:.3f}",
         f"{quality['found']}/{quality['planted_above']} planted pairs >= 0.9 "
         f"({quality['planted']} planted)"),
        ("near-dup F1", f"{quality['f1']:.3f}", "goal >= 0.9"),
        ("encoding check", f"{encoding_us:+.1f} us/row",
         f"CPU with it on minus off; {best['full']['encoding_rows']:,} rows with mojibake found "
         f"({MOJIBAKE:.0%} planted; {per_repair_ms:.2f} ms a repaired row, scanning included)"),
        ("peak RSS, whole audit", f"{best['full']['max_rss_mb']:.0f} MB",
         f"VmHWM, includes the interpreter (exact checks only: {best['exact']['max_rss_mb']:.0f} MB)"),
        ("peak Python heap, whole audit", f"{memory['python_peak_mb']:.0f} MB", "tracemalloc (Rust heap not seen)"),
    ]
    width = max(len(name) for name, _, _ in table)
    for name, value, note in table:
        print(f"{name:<{width}}  {value:>16}  {note}")


if __name__ == "__main__":
    main()
