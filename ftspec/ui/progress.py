"""A transient bar on stderr while a long pass over the data runs (the audit of check, explain, build, run and
`data audit|clean`). Shown only on a terminal, and only once the command has run for DELAY seconds, so a quick
`ftspec check` never imports rich.progress; each file's bar goes when the file is done, so nothing is left behind
for the summary or for a training run's own output."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from ftspec.data.progress import FileProgress, listening

DELAY = 1.0  # seconds into a command before a bar appears


class TerminalProgress:
    def __init__(self, console=None, delay: float = DELAY):
        self.console = console
        self.shown_from = time.monotonic() + delay
        self.bar = None
        self.tasks: dict[str, int] = {}

    def __call__(self, event: FileProgress) -> None:
        if self.bar is None:
            if event.finished or time.monotonic() < self.shown_from:
                return
            self.bar = _bar(self.console)
            self.bar.start()
        task = self.tasks.get(event.file)
        if task is None:
            task = self.tasks[event.file] = self.bar.add_task(f"audit {event.split} {event.file}",
                                                              total=event.total_bytes, rows=0)
        self.bar.update(task, completed=event.done_bytes or 0, rows=event.rows, refresh=True)
        if event.finished:
            self.bar.remove_task(self.tasks.pop(event.file))
            if not self.tasks:
                self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def _bar(console):
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    from ftspec.ui.console import console as make_console

    return Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                    TextColumn("{task.fields[rows]:,} rows"), TimeElapsedColumn(),
                    console=console or make_console(stderr=True), transient=True, auto_refresh=False,
                    redirect_stdout=False, redirect_stderr=False)  # drawn at each batch: no thread of its own


@contextmanager
def data_progress(console=None, delay: float = DELAY) -> Iterator[None]:
    """Around a command whose stderr is a terminal (with --json too: stdout stays one JSON document)."""
    progress = TerminalProgress(console, delay)
    try:
        with listening(progress):
            yield
    finally:
        progress.close()
