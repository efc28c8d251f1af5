"""`ftspec build SPEC`: render the build folder, or with --check say whether it is stale."""

from __future__ import annotations

from pathlib import Path

from ftspec.compiler.build import build_status, default_folder, render_project, write_atomically
from ftspec.compiler.pipeline import check_project
from ftspec.errors import ExitCode


def build_command(spec: str | Path, out: Path | None = None, check_only: bool = False, force: bool = False,
                  as_json: bool = False) -> int:
    from ftspec.ui.build import show_build, show_status

    result = check_project(spec)
    folder = Path(out) if out is not None else default_folder(result)
    if check_only:
        status = build_status(result, folder)
        show_status(status, as_json)
        return int(ExitCode.GATE_FAILED if status.stale else ExitCode.OK)
    built = render_project(result, folder, force=force)
    built.kept_edits = write_atomically(built)
    show_build(built, as_json)
    return int(ExitCode.OK)
