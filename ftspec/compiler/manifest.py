"""The build's manifest.json: its name and format, and the generated files' hashes it records. A light module (no
rendering), shared by the build that writes it, the runtime that checks a build before running it, and the run
folder that keeps a copy."""

from __future__ import annotations

import json
from pathlib import Path

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1


def recorded_files(folder: Path) -> dict[str, str]:
    """{generated file: sha256} as the build's manifest records them; {} without a readable manifest."""
    try:
        files = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8")).get("files") or {}
    except (OSError, ValueError, AttributeError):
        return {}
    return files if isinstance(files, dict) else {}
