"""Rich rendering of the decision for `ftspec check`: the verdict, its main reasons, the method and the memory."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from ftspec.compiler.methods import method_rows
from ftspec.compiler.plan import Plan
from ftspec.compiler.report import APPROACH_TITLES, params_label

MAIN_REASONS = 4


def render_decision(plan: Plan, full: bool = False):
    d = plan.decision
    parts = [Text.assemble(("decision: ", "bold"), (APPROACH_TITLES[d.approach], "bold cyan"))]
    if plan.method and plan.model:
        adapter = f" + {plan.adapter}" if plan.adapter else ""
        parts.append(Text(f"  method: {plan.method}{adapter} on {plan.model.name} "
                          f"({params_label(plan.model.params)} params), {plan.distributed.mode}"))
    reasons = d.reasons if full else d.reasons[:MAIN_REASONS]
    for r in reasons:
        parts.append(Text(f"  - {r.text}" + (f"  ({r.location})" if r.location else "")))
    if len(d.reasons) > len(reasons):
        parts.append(Text(f"  ... {len(d.reasons) - len(reasons)} more: `ftspec explain SPEC`", style="dim"))
    if d.ladder:
        parts += [Text("  the ladder (measured by `ftspec baseline`, or declared in requirements.tried):"),
                  _ladder_table(d)]
    for p in d.prerequisites:
        if not p.met:
            style = "red" if p.blocking else "yellow"
            parts.append(Text(f"  {'blocking' if p.blocking else 'note'}: {p.name}: {p.hint or 'unmet'}", style=style))
    if plan.candidates:
        parts.append(_memory_table(plan))
    if full and plan.candidates:
        parts.append(_methods_table(plan))
    return Group(*parts)


def _ladder_table(decision) -> Table:
    """The prompting ladder side by side: a row per rung (measured or declared), a column per gated metric."""
    from ftspec.compiler.report import ladder_cell, ladder_columns, ladder_header, ladder_source

    columns = ladder_columns(decision)
    table = Table("rung", "source", *(ladder_header(c) for c in columns), "verdict", box=None, padding=(0, 2, 0, 2))
    for row in decision.ladder:
        verdict = Text("pass", style="green") if row.passed else Text("miss", style="red")
        table.add_row(Text(row.label), Text(ladder_source(row)), *(Text(ladder_cell(row, c)) for c in columns),
                      verdict)
    return table


def _methods_table(plan: Plan) -> Table:
    """The methods table (compiler/methods.py): every objective, the chosen one marked."""
    table = Table("objective", "trainer", "data formats", "adapters", "memory beside the policy", "spec",
                  box=None, padding=(0, 2, 0, 2))
    for row in method_rows(plan.training_method):
        table.add_row(row.objective + (" (chosen)" if row.chosen else ""), row.trainer, row.formats, row.adapters,
                      row.memory, row.spec_key)
    return table


def _memory_table(plan: Plan) -> Table:
    table = Table("candidate", "method", "memory GB", "fits", box=None, padding=(0, 2, 0, 2))
    for c in plan.candidates:
        method = f"{c.method} ({c.adapter})" if c.adapter else c.method
        fits = ("yes" if c.fits else "no") + (f", {c.sharding}" if c.sharding != "none" else "")
        table.add_row(c.name, method, f"{c.estimated_memory_gb:g}", fits)
    return table
