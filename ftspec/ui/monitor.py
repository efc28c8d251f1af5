"""`ftspec monitor` in the terminal (rich): the windows, the verdict with its reasons, bad rows, clusters, the plan."""

from __future__ import annotations

from ftspec.monitor.html import VERDICT_STYLE, _num, _pct, _quality_cell, _worst_psi


def show_monitor(report: dict) -> None:
    from rich.table import Table

    from ftspec.ui.console import console

    out = console()
    training = report["training"]
    out.print(f"[bold]{report['spec']['name']}[/]: {report['rows']['used']} log rows in {len(report['windows'])} "
              f"{report['window']} windows, against {training['rows']} training rows ({training['source']})")
    if training.get("note"):
        out.print(f"  note: {training['note']}", markup=False)
    table = Table("window", "rows", "novel", "OOV", "PSI (worst)", "output fails", "quality", "verdict", box=None)
    for w in report["windows"]:
        verdict = w["verdict"] if w["judged"] else "ok (too few rows)"
        table.add_row(w["label"], str(w["rows"]), _pct(w["drift"]["novelty"]), _pct(w["drift"]["oov"]),
                      _num(_worst_psi(w)), _pct(w["output_failure"]), _quality_cell(w),
                      f"[{VERDICT_STYLE.get(w['verdict'], '')}]{verdict}[/]")
    out.print(table)
    _show_reasons(out, report)
    _show_bad_rows(out, report)
    for cluster in report["clusters"][:3]:
        example = cluster["examples"][0] if cluster["examples"] else {"prompt": "", "where": ""}
        out.print(f"  novel cluster #{cluster['id']}: {cluster['size']} prompts since {cluster['first_window']}, "
                  f"e.g. {example['prompt'][:80]!r} ({example['where']})", markup=False)
    cadence = report["cadence"]
    out.print(f"cadence: re-fine-tune {cadence['suggested']} ({cadence['basis']})", markup=False)
    if report["plan"]:
        plan = report["plan"]
        out.print(f"plan: {plan['sample_rows']} novel prompts to label in {report['files'].get('refine_sample.jsonl')}",
                  markup=False)
        for step in plan["next_steps"]:
            out.print(f"  - {step}", markup=False)
    out.print(f"report: {report['files']['report.html']}", markup=False)


def _show_reasons(out, report: dict) -> None:
    style = VERDICT_STYLE.get(report["verdict"], "")
    out.print(f"verdict: [{style}]{report['verdict']}[/]")
    for reason in report["reasons"]:
        out.print(f"  {reason['text']}  [{reason['spec_path']} at {reason['location']}] in "
                  f"{', '.join(reason['windows'])}", markup=False)
    for problem in report["problems"]:
        out.print(f"[bold red]error:[/] {problem}")


def _show_bad_rows(out, report: dict) -> None:
    bad = report["rows"]["bad"]
    if not bad:
        return
    out.print(f"[yellow]{bad} bad log row(s)[/] (left out of every measure):")
    for row in report["bad_rows"][:10]:
        out.print(f"  {row['file']}:{row['line']}: {row['message']}", markup=False)
    if bad > 10:
        out.print(f"  ... {bad - 10} more in report.json (the first {len(report['bad_rows'])} listed)", markup=False)
