"""The summary `ftspec eval` prints for people: one row per gate, why each failed, overfitting, report paths."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table
from rich.text import Text

from ftspec.evals.gates import fmt
from ftspec.evals.report import ci_text
from ftspec.runtime.rundir import REPORT_JSON
from ftspec.ui.console import console


def gate_table(report: dict) -> Table:
    confidence = f"{report['bootstrap']['confidence']:.0%} CI"
    table = Table("metric", "slice", "value", confidence, "threshold", "baseline", f"margin ({confidence})", "n",
                  "invalid",
                  "failed", "verdict", box=None, pad_edge=False)
    for g in report["gates"]:
        baseline = f"{fmt(g['baseline_value'])} ({g['vs_baseline']})" if g["vs_baseline"] else ""
        margin = f"{fmt(g['margin'], signed=True)} {ci_text(g['margin_ci'])}" if g["vs_baseline"] else ""
        threshold = g["threshold"] + (" (CI bound)" if g["gate_on_lower_bound"] else "")
        verdict = "[green]pass[/]" if g["passed"] else "[bold red]FAIL[/]"
        table.add_row(Text(g["label"]), Text(g["slice"]), fmt(g["value"]), ci_text(g["value_ci"]), threshold, baseline,
                      margin, str(g["n"]), str(g["invalid"]), str(g["failed"]), verdict)
    return table


def show_eval(report: dict, paths: dict[str, Path]) -> None:
    out = console()
    counts = report["counts"]
    out.print(f"[bold]{report['spec']['name']}[/]  run {report['run_id']}  "
              f"{counts['passed']} of {counts['gates']} gates passed")
    for name, where in (report.get("base_sources") or {}).items():  # a baseline's rows, or this run's
        out.print(Text(f"{name}: {where}", style="dim"))
    if report["gates"]:
        out.print(gate_table(report))
    for g in report["gates"]:
        if not g["passed"]:
            versus = f" vs {g['vs_baseline']}" if g["vs_baseline"] else ""
            out.print(Text.assemble(("✗ ", "red"), f"{g['label']} on {g['slice']}{versus}: {g['reason']}"))
    for problem in report["problems"]:
        out.print(Text.assemble(("✗ ", "red"), problem))
    for entry in report.get("slices", []):  # a slice far below the whole set, gated or not
        if entry["warning"]:
            out.print(Text.assemble(("⚠ ", "yellow"), entry["warning"]))
    for g in report["gates"]:
        if g.get("method"):
            out.print(Text(f"{g['label']} on {g['slice']}: measured {g['method']}", style="dim"))
    overfit = report["overfitting"]
    out.print(Text.assemble(("loss curves: ", "yellow" if overfit.get("detected") else ""), overfit["message"]))
    folder = paths[REPORT_JSON].parent
    out.print(f"reports: {folder}/ " + ", ".join(p.name for p in paths.values()))
    if report.get("regression"):  # `eval --against`
        from ftspec.ui.versions import show_regression

        show_regression(report["regression"])
    if report["verdict"] == "pass":
        out.print("[bold green]gate passed[/]")
    else:
        out.print("[bold red]gate failed[/] (exit 1)")
