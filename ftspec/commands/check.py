"""`ftspec check SPEC`: validate the spec, audit its data, decide whether and how to fine-tune."""

from __future__ import annotations

from pathlib import Path


def check_command(spec: Path, as_json: bool = False, engine: str = "local", address: str | None = None) -> int:
    from ftspec.compiler.pipeline import check_project

    result = check_project(spec, engine=engine, address=address)
    if as_json:
        from ftspec.ui.console import print_json

        print_json(result.to_json())
    else:
        from ftspec.ui.check import show_check

        show_check(result)
    return result.exit_code
