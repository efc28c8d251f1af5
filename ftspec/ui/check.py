"""The summary `ftspec check` prints for people: spec, audit, decision."""

from __future__ import annotations

from ftspec.compiler.pipeline import CheckResult
from ftspec.ui.console import console


def show_check(result: CheckResult) -> None:
    from ftspec.ui.audit import render_audit
    from ftspec.ui.decision import render_decision

    out = console()
    spec = result.loaded.spec
    out.print(f"[bold]{spec.name}[/]  {result.loaded.path}  [green]spec ok[/] "
              f"({_count(len(spec.metrics), 'metric')}, {_count(len(spec.models), 'candidate model')})")
    out.print(render_audit(result.audit))
    out.print(render_decision(result.plan, full=False))
    for warning in result.warnings:  # located, not blocking (e.g. few-shot prompts past the context window)
        out.print(f"warning: {warning.format()}", style="yellow", markup=False)
    if result.audit.errors:
        out.print(f"[red]{len(result.audit.errors)} blocking data problem(s)[/]: fix them or set their severity "
                  "in data.quality.severity; `ftspec data audit SPEC --out flagged.jsonl` lists every row.")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")
