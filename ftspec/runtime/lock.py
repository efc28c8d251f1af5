"""One `ftspec run --resume` at a time per run folder: an exclusive flock on runs/<id>/.lock.

The kernel drops the lock when its holder ends, kill -9 included, so a lock never outlives its process. The file
descriptor is not inherited by the training script (Python opens it close-on-exec)."""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

from ftspec.errors import UsageError

LOCK_FILE = ".lock"


@contextmanager
def run_lock(run_dir: Path):
    """Hold the run's lock for the block, or raise a UsageError at once when another process holds it."""
    fd = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(f"run {run_dir.name} is being resumed by another ftspec process",
                             "wait for it to finish; `ftspec runs SPEC` shows its state") from None
        yield
    finally:
        os.close(fd)
