"""A sweep trial's overhead beyond training, on the demo (CPU, the demo's tiny model, 64 train rows).

Runs `ftspec sweep` on a shrunken demo project (a grid of --trials points, --max-steps optimizer steps each, no
pruning) and splits each trial's wall time, from Optuna's own record and the trial's train_log.jsonl:
  launch -> first step: from the trial's start in the study to train.py's `start` row (python, torch, the model,
                        the data, the dev split);
  training: from `start` to `end` (the dev evaluations included);
  after training: from `end` to the trial's completion in the study (saving the model, process exit, reading the
                  log, the overfitting check, the study's bookkeeping).
The goal: launch + after training <= 5 s a trial on 2 cores. Also the sweep command's own start (check, build,
and the fork server's imports, once for all trials; FTSPEC_FORK_SERVER=0 measures trials started cold).

Usage: python benchmarks/bench_sweep.py [--trials 3] [--max-steps 4]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "functional"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--max-steps", type=int, default=4)
    args = parser.parse_args()
    from test_sweep_e2e import project  # the e2e test's shrunken demo project

    model = REPO / "specs" / "demo" / "models" / "tiny-llama"
    if not model.is_dir():
        sys.exit(f"build the demo model first: ftspec demo-model {model}")
    with tempfile.TemporaryDirectory() as tmp:
        spec = project(Path(tmp), model, trials=args.trials,
                       extra=f"  max_steps: {args.max_steps}\n  pruning: false\n  strategy: grid\n")
        text = spec.read_text().replace("  strategy: grid_then_bayesian\n", "")
        text = text.replace("grid_points: 2}", f"grid_points: {args.trials}}}").replace(
            "    epochs: {values: [1, 2]}\n", "")
        spec.write_text(text)
        env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
        subprocess.run([sys.executable, "-m", "ftspec", "build", str(spec)], env=env, check=True, capture_output=True)
        began = time.time()
        result = subprocess.run([sys.executable, "-m", "ftspec", "sweep", str(spec), "--json"], env=env,
                                capture_output=True, text=True)
        wall = time.time() - began
        if result.returncode != 0:
            sys.exit(result.stdout + result.stderr)
        report(Path(json.loads(result.stdout)["sweep_dir"]), began, wall)


def report(folder: Path, began: float, wall: float) -> None:
    import optuna

    trials = optuna.load_study(study_name="sweep", storage=f"sqlite:///{folder / 'study.db'}").get_trials()
    launch, training, after = [], [], []
    for trial in trials:
        log = [json.loads(line) for line in (folder / "trials" / trial.user_attrs["run_id"] / "train_log.jsonl")
               .read_text().splitlines() if line.strip()]
        start = next(r for r in log if r["type"] == "start")["time"]
        end = next(r for r in log if r["type"] == "end")["time"]
        launch.append(start - trial.datetime_start.timestamp())
        training.append(end - start)
        after.append(trial.datetime_complete.timestamp() - end)
    first = min(t.datetime_start.timestamp() for t in trials)
    print(f"{len(trials)} trials, sweep wall {wall:.1f} s; command start (check, study) {first - began:.1f} s")
    for name, values in (("launch -> first step", launch), ("training", training), ("after training", after)):
        print(f"  {name:22s} median {statistics.median(values):5.2f} s  (min {min(values):.2f}, max {max(values):.2f})")
    overhead = [a + b for a, b in zip(launch, after, strict=True)]
    print(f"  overhead beyond training: median {statistics.median(overhead):.2f} s a trial (goal <= 5 s)")
    print(f"  load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
