"""Helpers for the runtime's unit tests: run folders written the way `ftspec run` and train.py write them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ftspec.runtime.status import RunStatus, write_status


def _write_run(root: Path, run_id: str, state: str = "completed", started: float = 1000.0, **fields) -> Path:
    run_dir = root / run_id
    run_dir.mkdir(parents=True)
    write_status(run_dir, RunStatus(id=run_id, state=state, started=started, **fields))
    return run_dir


def _write_log(run_dir: Path, rows: list[dict]) -> None:
    with open(run_dir / "train_log.jsonl", "a", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")


@pytest.fixture
def write_run():
    return _write_run


@pytest.fixture
def write_log():
    return _write_log


@pytest.fixture
def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid
