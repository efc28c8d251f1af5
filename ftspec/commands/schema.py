"""`ftspec schema`: the spec's JSON Schema, for editors (it is one JSON document, with or without --json)."""

from __future__ import annotations

import sys


def schema_command(as_json: bool = False) -> int:
    from ftspec.spec.schema import schema_json

    sys.stdout.write(schema_json() + "\n")
    return 0
