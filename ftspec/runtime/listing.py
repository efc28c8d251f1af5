"""The rows of `ftspec runs`: one per run folder, read from status.json, train_log.jsonl and report.json."""

from __future__ import annotations

import json
import time
from pathlib import Path

from ftspec.runtime.rundir import list_runs
from ftspec.runtime.status import RunStatus
from ftspec.runtime.trainlog import TRAIN_LOG, TrainProgress, read_rows

NOT_EVALUATED = "not evaluated"


def run_rows(root: Path, now: float | None = None) -> list[dict]:
    now = time.time() if now is None else now
    return [run_row(path, status, now) for path, status in list_runs(root)]


def run_row(path: Path, status: RunStatus | None, now: float) -> dict:
    progress = TrainProgress.from_rows(read_rows(path / TRAIN_LOG))
    state = status.effective_state if status else "unknown"
    started = status.started if status else None
    ended = status.ended if status and status.ended else (now if state == "running" else None)
    return {
        "id": path.name,
        "run_dir": str(path),
        "state": state,
        "stage": status.stage if status else None,
        "started": started,
        "ended": status.ended if status else None,
        "duration": ended - started if started is not None and ended is not None else None,
        "steps": progress.step,
        "max_steps": progress.max_steps,
        "final_loss": progress.loss,
        "eval_loss": progress.eval_loss,
        "verdict": read_verdict(path),
    }


def read_verdict(run_dir: Path) -> str:
    """report.json's verdict (pass | fail), `not evaluated` without one, `unreadable report` if it is damaged."""
    path = run_dir / "report.json"
    if not path.is_file():
        return NOT_EVALUATED
    try:
        verdict = json.loads(path.read_text(encoding="utf-8")).get("verdict")
    except (OSError, ValueError, AttributeError):
        return "unreadable report"
    return verdict if isinstance(verdict, str) else "unreadable report"
