"""Terminal output. rich honours NO_COLOR and drops styling when stdout is not a terminal."""

from __future__ import annotations

import json
import sys

from rich.console import Console


def console(stderr: bool = False) -> Console:
    # Errors never wrap: a file:line:col line must stay one line for editors and CI log parsers.
    return Console(stderr=stderr, highlight=False, soft_wrap=stderr)


def print_json(document: object) -> None:
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=False, default=str) + "\n")
    sys.stdout.flush()
