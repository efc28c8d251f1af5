"""`ftspec export RUN --out DIR`: a run's model as a folder to ship (ftspec.versions.export; imports torch)."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path


def export_command(run: str, out: Path, spec: Path | None = None, keep_adapter: bool = False, force: bool = False,
                   as_json: bool = False) -> int:
    from ftspec.versions.export import export_run

    with contextlib.redirect_stdout(sys.stderr):  # torch and its plugins print on import: stdout stays ftspec's own
        result = export_run(spec, run, out, keep_adapter=keep_adapter, force=force)
    if as_json:
        from ftspec.ui.console import print_json

        print_json(result)
    else:
        from ftspec.ui.versions import show_export

        show_export(result)
    return 0
