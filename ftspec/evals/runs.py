"""Find the run to score and read what its scripts wrote: predictions.jsonl and train_log.jsonl.

A bad line never crashes `ftspec eval`: it is counted as a problem that fails the gate, so a truncated or
garbled predictions file can never pass for a complete one."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from ftspec.errors import UsageError
from ftspec.runtime.rundir import matching

PREDICTIONS = "predictions.jsonl"
TRAIN_LOG = "train_log.jsonl"


def run_ids(runs_dir: Path) -> list[str]:
    """Every run folder's id, oldest first: ids start with a timestamp, so they sort by time."""
    if not runs_dir.is_dir():
        return []
    return sorted(p.name for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


def pick_run(runs_dir: Path, run_id: str | None) -> Path:
    """The run to score: the latest by default, else what --run names (`last`, an id, or a unique prefix of one).
    Any folder counts, so a run made by hand or by another tool can be scored too."""
    ids = run_ids(runs_dir)
    if not ids:
        raise UsageError(f"no runs under {runs_dir}", "start one with `ftspec run SPEC`")
    found = matching(ids, run_id or "last")
    if len(found) == 1:
        return runs_dir / found[0]
    shown = ", ".join(ids[-5:]) + (f" (and {len(ids) - 5} older)" if len(ids) > 5 else "")
    what = f"no run `{run_id}`" if not found else f"`{run_id}` matches {len(found)} runs"
    raise UsageError(f"{what} under {runs_dir}", f"pass --run with `last`, an id or a unique prefix: {shown}")


@dataclass
class Predictions:
    rows: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # lines that could not be read; each fails the gate


def read_predictions(run_dir: Path) -> Predictions:
    path = run_dir / PREDICTIONS
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
    try:
        status = json.loads((run_dir / "status.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # no status: a run folder made by hand or by another tool; its rows are checked anyway
    state = status.get("state") if isinstance(status, dict) else None
    if state not in ("failed", "interrupted"):
        return None
    return (f"run {run_dir.name} is {state} (stage {status.get('stage')}): its predictions may be incomplete; "
            f"finish it with `ftspec run SPEC --resume {run_dir.name}`")


@dataclass
class TrainLog:
    train: list[tuple[int, float]] = field(default_factory=list)  # (step, loss)
    eval: list[tuple[int, float]] = field(default_factory=list)  # (step, eval_loss)
    end: dict | None = None
    skipped: int = 0  # lines that were not JSON objects
    found: bool = False


def read_train_log(run_dir: Path) -> TrainLog:
    path = run_dir / TRAIN_LOG
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
    elif kind in ("train", "eval") and _finite(step):
        key = "loss" if kind == "train" else "eval_loss"
        if _finite(row.get(key)):
            getattr(log, kind).append((int(step), float(row[key])))


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
