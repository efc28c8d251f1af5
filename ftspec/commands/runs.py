"""`ftspec runs SPEC`: the project's runs with their state and verdict."""

from __future__ import annotations

from pathlib import Path


def runs_command(spec: Path, as_json: bool = False) -> int:
    from ftspec.runtime.listing import run_rows
    from ftspec.runtime.rundir import Runs
    from ftspec.spec.source import read_text

    spec = Path(spec)
    read_text(spec)  # a missing spec is an error; a broken one may still list its runs
    root = Runs.for_spec(spec).root
    rows = run_rows(root)
    if as_json:
        from ftspec.ui.console import print_json

        print_json({"runs_dir": str(root), "runs": rows})
    else:
        from ftspec.ui.run import show_runs

        show_runs(rows, root)
    return 0
