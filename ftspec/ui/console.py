"""Terminal output. rich honours NO_COLOR and drops styling when stdout is not a terminal."""

from __future__ import annotations

import json
import os
import sys

from rich.console import Console

PIPE_WIDTH = 120  # rich assumes 80 columns off a terminal; CI logs are wider than that


def console(stderr: bool = False, width: int | None = None) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    terminal = stream.isatty()
    if width is None:
        width = None if terminal or "COLUMNS" in os.environ else PIPE_WIDTH
    # Lines never wrap (tables still fit the width): a path or a file:line:col must stay whole for editors, for
    # CI log parsers and for copy-paste. No :emoji: codes: a spec's text is shown as written (and rich's emoji table
    # costs 4 ms to import). Off a terminal, rich pads each table line to the full width: the padding goes.
    return Console(file=None if terminal else TrailingSpaceStripper(stream), stderr=stderr, highlight=False,
                   soft_wrap=True, width=width, emoji=False)


class TrailingSpaceStripper:
    """A text stream that writes each complete line without its trailing spaces (a line still being written waits
    for its newline, or for a flush)."""

    def __init__(self, stream):
        self.stream = stream
        self.pending = ""

    def write(self, text: str) -> int:
        lines = (self.pending + text).split("\n")
        self.pending = lines.pop()
        if lines:
            self.stream.write("".join(line.rstrip(" ") + "\n" for line in lines))
        return len(text)

    def flush(self) -> None:
        if self.pending:
            self.stream.write(self.pending)
            self.pending = ""
        self.stream.flush()

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str):  # encoding, fileno, ...: the stream's own
        return getattr(self.stream, name)


def print_json(document: object) -> None:
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=False, default=str) + "\n")
    sys.stdout.flush()
