"""Rich rendering of an AuditReport: the rows per split, each check that found something (severity, count, where,
how to mend it), the checks that passed on one line, and token lengths per model."""

from __future__ import annotations

from pathlib import PurePath

from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ftspec.data.findings import AuditReport, Finding

SHOWN_ROWS = 3
WHOLE = 8  # a finding with at most this many rows shows every row's note; a bigger one its first SHOWN_ROWS
STYLE = {"error": "red", "warning": "yellow", "info": "cyan"}
MARK = {"error": "✗", "warning": "!", "info": "·"}


def render_audit(report: AuditReport):
    parts = [_header(report.stats)]
    found = [f for f in report.findings if f.count]
    found.sort(key=lambda f: (f.severity != "error", -f.count))
    if found:
        parts.append(_table(found))
    passed = [f.check for f in report.findings if not f.count]
    if passed:
        parts.append(Text.assemble(("  ✓ ", "green"), (" ".join(passed), "dim")))
    parts.extend(_lengths(report.stats))
    return Group(*parts)


def _header(stats: dict) -> Text:
    rows, clean = stats.get("rows", {}), stats.get("clean_rows", {})
    if not rows:
        return Text("data: not audited")
    splits = " · ".join(f"{split} {count:,}" + (f" ({clean.get(split, count):,} clean)"
                                                 if clean.get(split, count) != count else "")
                        for split, count in rows.items())
    seconds = stats.get("seconds")
    return Text.assemble(("data ", "bold"), splits, (f"  {seconds:.2f} s" if seconds is not None else "", "dim"))


def _table(found: list[Finding]) -> Table:
    table = Table(box=None, show_header=False, padding=(0, 1), pad_edge=False)
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    table.add_column()
    for finding in found:
        style = STYLE.get(finding.severity, "")
        table.add_row(Text(f"  {MARK.get(finding.severity, '·')} {finding.check}", style=style),
                      Text(finding.severity, style=style), f"{finding.count:,}", Text(_where(finding), style="dim"))
        for note in _notes(finding):
            table.add_row("", "", "", Text(note))
        if finding.hint and finding.severity == "error":
            table.add_row("", "", "", Text.from_markup(f"[dim]hint: {escape(finding.hint)}[/]"))
    return table


def _where(finding: Finding) -> str:
    """The first rows as file:line, the file named once while it repeats."""
    parts, last = [], None
    for row in finding.rows[:SHOWN_ROWS]:
        name = _short(row.file)
        parts.append(f":{row.line}" if name == last else f"{name}:{row.line}")
        last = name
    more = finding.count - len(parts)
    return ", ".join(parts) + (f" (+{more:,} more)" if more > 0 and parts else "")


def _short(file: str) -> str:
    return PurePath(file).name if PurePath(file).is_absolute() else file


def _notes(finding: Finding) -> list[str]:
    """What was found at each listed row (its note), or the finding's message where no row explains it. A small
    finding shows every note (two size problems are two different problems); a big one the notes of the rows the
    where column lists (it counts the rest)."""
    noted = [row for row in finding.rows if row.note]
    if not noted:
        return [finding.message]
    shown = noted if finding.count <= WHOLE and len(noted) == finding.count else noted[:SHOWN_ROWS]
    return [f"{_short(row.file)}:{row.line}: {row.note.replace(row.file, _short(row.file))}" for row in shown]


def _lengths(stats: dict) -> list[Text]:
    lines = []
    for model, length in stats.get("token_lengths", {}).items():
        if not length.get("rows"):
            continue
        over = length.get("over_limit", 0)
        lines.append(Text.assemble(
            ("  tokens ", "bold"), f"{model}: min {length['min']} · median {length['median']} · p95 {length['p95']} · "
            f"max {length['max']}  ", (f"{over:,} over the limit of {length['limit']}",
                                       "yellow" if over else "dim")))
    for model, why in stats.get("tokenizers_skipped", {}).items():
        lines.append(Text(f"  tokens {model}: not measured ({why})", style="dim"))
    return lines
