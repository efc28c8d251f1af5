"""Time the whole demo pipeline on CPU, stage by stage, as `make demo` runs it (one torch thread unless
OMP_NUM_THREADS says otherwise): check -> baseline -> build -> run -> eval (goal: under 3 minutes).

The demo base model is made first (once; it is reused by `make demo` and the tests) and timed apart.
Usage: python benchmarks/bench_demo.py
"""

from __future__ import annotations

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


def timed(*args: str, cwd: Path) -> tuple[float, int]:
    started = time.perf_counter()
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}  # as the Makefile's demo target
    done = subprocess.run([sys.executable, "-m", "ftspec", *args], cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        sys.exit(f"ftspec {' '.join(args)} failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return time.perf_counter() - started, done.returncode


def main() -> None:
    model_s, _ = timed("demo-model", str(DEMO / "models" / "tiny-llama"), cwd=REPO)
    stages = {}
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "demo"
        shutil.copytree(DEMO, project, ignore=shutil.ignore_patterns("build", "runs", "baselines"))
        for stage in ("check", "baseline", "build", "run", "eval"):
            stages[stage], code = timed(stage, "project.yaml", cwd=project)
        report = json.loads(next((project / "runs").glob("*/report.json")).read_text())
    total = sum(stages.values())
    print(f"demo model (made once, reused): {model_s:.1f} s")
    for stage, seconds in stages.items():
        print(f"  ftspec {stage:<8} {seconds:6.1f} s")
    print(f"pipeline total {total:.1f} s; goal (< 180 s) {'met' if total < 180 else 'NOT met'}; "
          f"verdict {report['verdict']} (eval exit {code})")
    print(json.dumps({"model_s": model_s, "stages_s": stages, "total_s": total, "verdict": report["verdict"]}))


if __name__ == "__main__":
    main()
