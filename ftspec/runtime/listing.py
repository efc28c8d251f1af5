"""The rows of `ftspec runs`: one per run folder, read from status.json, train_log.jsonl and report.json."""

from __future__ import annotations

import json
import time
from pathlib import Path

from ftspec.runtime.rundir import RunDir, Runs
from ftspec.runtime.status import RunKind, RunStatus
from ftspec.runtime.trainlog import TrainProgress, read_rows

NOT_EVALUATED = "not evaluated"


def run_rows(root: Path, now: float | None = None, kind: RunKind | None = None) -> list[dict]:
    now = time.time() if now is None else now
    return [run_row(run, status, now) for run, status in Runs(root).list(kind)]


def run_row(run: RunDir, status: RunStatus | None, now: float) -> dict:
    path = run.path
    progress = TrainProgress.from_rows(read_rows(run.train_log))
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
        "verdict": read_verdict(run),
    }


def read_verdict(run: RunDir) -> str:
    """report.json's verdict (pass | fail), `not evaluated` without one, `unreadable report` if it is damaged."""
    path = run.report()
    if not path.is_file():
        return NOT_EVALUATED
    try:
        verdict = json.loads(path.read_text(encoding="utf-8")).get("verdict")
    except (OSError, ValueError, AttributeError):
        return "unreadable report"
    return verdict if isinstance(verdict, str) else "unreadable report"
