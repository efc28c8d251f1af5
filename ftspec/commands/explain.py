"""`ftspec explain SPEC`: the full reasoning behind the decision."""

from __future__ import annotations

from pathlib import Path


def explain_command(spec: Path, as_json: bool = False) -> int:
    from ftspec.compiler.pipeline import check_project

    result = check_project(spec)
    if as_json:
        from ftspec.ui.console import print_json

        print_json(result.to_json())
        return int(result.exit_code)  # the same verdict as `check`: 2 while something blocks the build
    from rich.markdown import Markdown

    from ftspec.compiler.report import decision_markdown
    from ftspec.ui.console import console

    # Markdown paragraphs wrap; with soft wrap they would be cropped at the edge instead.
    markdown = decision_markdown(result.plan, result.audit, result.loaded, dry_run=True)  # with one rendered example
    console().print(Markdown(markdown), soft_wrap=False)
    return int(result.exit_code)
