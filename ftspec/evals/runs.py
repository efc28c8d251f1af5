"""Read what a run's scripts wrote: predictions.jsonl and train_log.jsonl (the run folder itself is
ftspec.runtime.rundir's: which run, which file, its status).

A bad line never crashes `ftspec eval`: it is counted as a problem that fails the gate, so a truncated or
garbled predictions file can never pass for a complete one."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from ftspec.errors import UsageError
from ftspec.runtime.rundir import PREDICTIONS, RunDir


@dataclass
class Predictions:
    rows: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # lines that could not be read; each fails the gate


def read_predictions(run_dir: Path) -> Predictions:
    path = RunDir(run_dir).predictions
    if not path.is_file():
        raise UsageError(f"run {run_dir.name} has no {PREDICTIONS}",
                         "its eval step did not finish: rerun it with `ftspec run SPEC --resume "
                         f"{run_dir.name}`, or pick another run with --run")
    found = Predictions()
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            problem = _check_row(line)
            if isinstance(problem, str):
                found.problems.append(f"{PREDICTIONS}:{number}: {problem}")
            else:
                found.rows.append(problem)
    return found


def _check_row(line: str) -> dict | str:
    """The row, or why it cannot be used."""
    try:
        row = json.loads(line)
    except ValueError:
        return "not valid JSON (a truncated or garbled line)"
    if not isinstance(row, dict):
        return "not a JSON object"
    for key in ("model", "slice"):
        if not isinstance(row.get(key), str) or not row[key]:
            return f"no `{key}`"
    return row


def unfinished(run_dir: Path) -> str | None:
    """Why a run's predictions may be incomplete, from its status.json (written by `ftspec run`), or None."""
    status = RunDir(run_dir).status()
    if status is None:
        return None  # no status: a run folder made by hand or by another tool; its rows are checked anyway
    if status.state not in ("failed", "interrupted"):
        return None
    return (f"run {run_dir.name} is {status.state} (stage {status.stage}): its predictions may be incomplete; "
            f"finish it with `ftspec run SPEC --resume {run_dir.name}`")


@dataclass
class TrainLog:
    train: list[tuple[int, float]] = field(default_factory=list)  # (step, loss)
    eval: list[tuple[int, float]] = field(default_factory=list)  # (step, eval_loss)
    reward: list[tuple[int, float]] = field(default_factory=list)  # (step, mean reward): online RL (grpo)
    end: dict | None = None
    skipped: int = 0  # lines that were not JSON objects
    found: bool = False


def read_train_log(run_dir: Path) -> TrainLog:
    path = RunDir(run_dir).train_log
    log = TrainLog(found=path.is_file())
    if not log.found:
        return log
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.strip():
                _fold(log, line)
    # a resumed run logs the steps after its checkpoint again: keep the last value logged for each step
    log.train = sorted(dict(log.train).items())
    log.eval = sorted(dict(log.eval).items())
    log.reward = sorted(dict(log.reward).items())
    return log


def _fold(log: TrainLog, line: str) -> None:
    try:
        row = json.loads(line)
    except ValueError:
        log.skipped += 1
        return
    if not isinstance(row, dict):
        log.skipped += 1
        return
    kind, step = row.get("type"), row.get("step")
    if kind == "end":
        log.end = row
    elif kind == "reward" and _finite(step) and _finite(row.get("reward")):
        log.reward.append((int(step), float(row["reward"])))
    elif kind in ("train", "eval") and _finite(step):
        key = "loss" if kind == "train" else "eval_loss"
        if _finite(row.get(key)):
            getattr(log, kind).append((int(step), float(row[key])))


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
