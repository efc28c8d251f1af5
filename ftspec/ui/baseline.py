"""What `ftspec baseline` prints: per model, one row per rung with each gated metric and its CI, pass or fail;
then the decision that follows from the evidence."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from ftspec.evals.gates import fmt
from ftspec.evals.report import ci_text
from ftspec.ui.console import console

EVIDENCE_PREFIXES = ("measured", "the measurement", "start with")


def gate_cell(gate: dict) -> Text:
    mark = ("✓ ", "green") if gate["passed"] else ("✗ ", "red")
    return Text.assemble(mark, f"{fmt(gate['value'])} {ci_text(gate['value_ci'])}")


def ladder_table(record: dict) -> Table:
    rungs = record["rungs"]
    first = next(iter(rungs.values()), {"gates": []})
    columns = [Text(g["label"] + ("" if g["slice"] == "all" else f" on {g['slice']}") + f" {g['threshold']}")
               for g in first["gates"]]
    table = Table(box=None, pad_edge=False)
    for header in ("rung", *columns, "seconds", "verdict"):
        table.add_column(header)
    for rung in rungs.values():
        verdict = "[green]pass[/]" if rung["passed"] else "[bold red]miss[/]"
        seconds = "" if rung.get("seconds") is None else f"{rung['seconds']:.1f}"
        table.add_row(Text(rung["label"]), *(gate_cell(g) for g in rung["gates"]), seconds, verdict)
    return table


def show_baseline(records: list[dict], decision) -> None:
    out = console()
    for record in records:
        out.print(f"[bold]{record['model']}[/]  baseline {record['id']}  ({record['folder']})")
        out.print(ladder_table(record))
        skipped = next(iter(record["rungs"].values()), {}).get("not_applicable") or []
        if skipped:
            out.print(Text(f"not gated before training (they compare a fine-tune with a baseline): "
                           f"{', '.join(skipped)}", style="dim"))
        for rung in record["rungs"].values():
            for problem in rung["problems"]:
                out.print(Text(f"! {rung['label']}: {problem}", style="yellow"))
    out.print(Text.assemble("decision: ", (decision.approach, "bold")))
    shown = [r for r in decision.reasons if r.text.startswith(EVIDENCE_PREFIXES) or "stale" in r.text]
    for reason in shown or decision.reasons[:3]:
        out.print(Text(f"  - {reason.text}"))
