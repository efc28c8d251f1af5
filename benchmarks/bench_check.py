"""Time `ftspec check specs/demo/project.yaml` against `python -c "import torch"` in the same run.

Goal: check in 0.3 s or less, and at least 5x faster than importing torch.
Usage: python benchmarks/bench_check.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "specs" / "demo" / "project.yaml"


def wall(cmd: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
        times.append(time.perf_counter() - start)
        if done.returncode not in (0, 1):
            sys.exit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    ftspec = shutil.which("ftspec", path=str(Path(sys.executable).parent)) or "ftspec"
    # Byte-compile as `pip install` does for a wheel: an editable install under PYTHONDONTWRITEBYTECODE=1 would
    # otherwise compile ftspec's modules from source on every run (~45 ms).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "ftspec")], check=True)
    wall([ftspec, "check", str(SPEC)], 1)  # warm the file cache
    check = wall([ftspec, "check", str(SPEC)], args.runs)
    torch = wall([sys.executable, "-c", "import torch"], max(3, args.runs // 2))
    result = {"check_median_s": statistics.median(check), "check_min_s": min(check),
              "import_torch_median_s": statistics.median(torch)}
    result["speedup_vs_torch"] = result["import_torch_median_s"] / result["check_median_s"]
    result["goal_met"] = result["check_median_s"] <= 0.3 and result["speedup_vs_torch"] >= 5
    print(f"ftspec check (demo)   median {result['check_median_s']:.3f} s  (min {result['check_min_s']:.3f} s, "
          f"{args.runs} runs)")
    print(f"python -c 'import torch'  median {result['import_torch_median_s']:.3f} s")
    print(f"check is {result['speedup_vs_torch']:.1f}x faster than importing torch; goal (<=0.3 s, >=5x) "
          f"{'met' if result['goal_met'] else 'NOT met'}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
