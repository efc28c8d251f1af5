"""Terminal output. rich honours NO_COLOR and drops styling when stdout is not a terminal."""

from __future__ import annotations

import json
import os
import sys

from rich.console import Console

PIPE_WIDTH = 120  # rich assumes 80 columns off a terminal; CI logs are wider than that


def console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() or "COLUMNS" in os.environ else PIPE_WIDTH
    # Lines never wrap (tables still fit the width): a path or a file:line:col must stay whole for editors, for
    # CI log parsers and for copy-paste. No :emoji: codes: a spec's text is shown as written (and rich's emoji table
    # costs 4 ms to import).
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=width, emoji=False)


def print_json(document: object) -> None:
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=False, default=str) + "\n")
    sys.stdout.flush()
