"""How far a pass over the data files has gone, for whoever shows it.

The audit reports after every batch; the CLI decides whether and how to show it (a transient bar on a terminal's
stderr, see ftspec.ui.progress). The listener is held in a context variable rather than passed down, so every
command that audits (check, explain, build, run, data audit, data clean) reports without each stage between the CLI
and the audit taking a callback it does not use. Nothing is reported where no one listens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class FileProgress:
    file: str  # as shown: relative to the current folder, or absolute (fsutil.display_path)
    split: str
    rows: int  # rows of this file read so far
    done_bytes: int | None  # bytes of this file read so far, where the reader knows (JSONL)
    total_bytes: int | None  # the file's size, where done_bytes is known
    finished: bool = False


Listener = Callable[[FileProgress], None]
_listener: ContextVar[Listener | None] = ContextVar("ftspec_data_progress", default=None)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


def current() -> Listener | None:
    """The listener of this context, looked up once per file by the audit."""
    return _listener.get()


class FileReport:
    """One file's reports to the listener, if there is one: after each batch, and once when the file is done."""

    def __init__(self, file: str, split: str, path, kind: str):
        self.listener = current()
        self.file, self.split = file, split
        self.total = _size(path) if self.listener is not None and kind == "jsonl" else None
        self.done = 0

    def batch(self, rows: int, batch) -> None:
        if self.listener is None:
            return
        if self.total is not None:
            self.done += batch.size()
        self.listener(FileProgress(self.file, self.split, rows, self._done(), self.total))

    def finish(self, rows: int) -> None:
        if self.listener is not None:
            self.listener(FileProgress(self.file, self.split, rows, self.total, self.total, finished=True))

    def _done(self) -> int | None:
        return None if self.total is None else min(self.done, self.total)


def _size(path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None
