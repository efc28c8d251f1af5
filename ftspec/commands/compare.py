"""`ftspec compare RUN_A RUN_B`: two runs row by row (ftspec.versions.compare), as a table or one JSON document;
the HTML page (and --markdown) are written by the stage."""

from __future__ import annotations

from pathlib import Path


def compare_command(run_a: str, run_b: str, spec: Path | None = None, as_json: bool = False,
                    intersection: bool = False, markdown: Path | None = None) -> int:
    from ftspec.versions.compare import compare_project

    result = compare_project(spec, run_a, run_b, intersection=intersection, markdown=markdown)
    if as_json:
        from ftspec.ui.console import print_json

        print_json(result)
    else:
        from ftspec.ui.versions import show_compare

        show_compare(result)
    return 0
