"""What the versions commands print for people: a comparison, the model registry, a promotion, an export, the
regression gates of `eval --against` and an A/B test's reading. Results are the stages' plain dicts (the JSON
contract); the Markdown and HTML texts are ftspec.versions.text's."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from ftspec.evals.gates import fmt
from ftspec.evals.report import ci_text
from ftspec.ui.console import console
from ftspec.versions.text import HEADERS, ROWS_IN_TEXT, eval_set_line, metric_cells, p_text


def show_compare(result: dict) -> None:
    out = console()
    out.print(f"[bold]A[/] {result['a']['run_id']}  →  [bold]B[/] {result['b']['run_id']}  ·  "
              f"{eval_set_line(result)}", markup=True)
    table = Table(*HEADERS, box=None)
    for m in result["metrics"]:
        table.add_row(*metric_cells(m), style={"better": "green", "worse": "red"}.get(m["change"]))
    out.print(table)
    s = result["summary"]
    out.print(f"{s['better']} better, {s['worse']} worse, {s['no change']} no detectable change "
              f"(Holm-adjusted p < {result['alpha']:g}); {result['changed_rows_total']} row scores changed")
    for row in result["changed_rows"][:ROWS_IN_TEXT]:
        out.print(f"  {row['change']:6} {row['metric']} {row['slice']}/{row['id']}: "
                  f"A {row['a_prediction']!r} → B {row['b_prediction']!r}", markup=False)
    out.print(f"HTML: {result.get('html')}", markup=False)


def show_models(history: list[dict], current: str | None) -> None:
    table = Table("", "run", "promoted", "by", "verdict", "forced", "gates", box=None)
    for entry in reversed(history):
        gates = entry.get("gates") or []
        passed = sum(bool(g.get("passed")) for g in gates)
        table.add_row("*" if entry["run_id"] == current else "", entry["run_id"], entry["promoted_at"], entry["by"],
                      entry.get("verdict") or "n/a", "forced" if entry.get("forced") else "",
                      f"{passed}/{len(gates)}")
    console().print(table if history else "no model promoted yet: `ftspec promote RUN`")


def show_promoted(entry: dict, registry: Path) -> None:
    note = " (forced: it did not pass its gates)" if entry["forced"] else ""
    console().print(f"promoted {entry['run_id']}{note}; recorded in {registry}", markup=False)


def show_export(result: dict) -> None:
    console().print(f"exported run {result['run_id']} ({result['kind']} model) to {result['out']}: "
                    f"{', '.join(result['files'])}", markup=False)


def show_regression(section: dict) -> None:
    out = console()
    state = "[green]pass[/]" if section["passed"] else "[red]fail[/]"
    out.print(f"regression gates against {section['against']}: {state}", markup=True)
    for g in section["gates"]:
        mark = "✓" if g["passed"] else "✗"
        out.print(f"  {mark} {g['label']} [{g['slice']}] B-A {fmt(g['difference'], signed=True)} "
                  f"{ci_text(g['difference_ci'])} tolerance {g['tolerance']}"
                  + ("" if g["passed"] else f": {g['reason']}"), markup=False)


def show_ab(result: dict) -> None:
    out = console()
    if result.get("plan"):
        out.print(f"{result['samples_per_variant']} rows per variant ({result['samples_total']} in all) detect a "
                  f"change of {result['effect']:+g} from a rate of {result['baseline_rate']:g} with "
                  f"{result['power']:.0%} power at alpha {result['alpha']:g} ({result['test']})", markup=False)
    else:
        out.print(f"{result['log']}: {result['rows']} rows, outcome `{result['metric']}` ({result['kind']}"
                  f"{', lower is better' if result['lower_is_better'] else ''})"
                  + (f", clustered by `{result['user_field']}`" if result["clustered"] else ""), markup=False)
        for name, v in zip((result["control"], result["treatment"]), result["variants"], strict=True):
            users = f", {v['users']} users" if "users" in v else ""
            out.print(f"  {name}: n {v['n']}{users}, {fmt(v['value'])} {ci_text(v['ci'])}", markup=False)
        out.print(f"  B - A: {fmt(result['difference'], signed=True)} {ci_text(result['difference_ci'])}, "
                  f"p {p_text(result['p_value'])} ({result['test']})"
                  + (f", Mann-Whitney p {p_text(result['mann_whitney_p'])}" if "mann_whitney_p" in result else ""),
                  markup=False)
        pw = result["power"]
        line = f"  power: the smallest effect these rows detect is {fmt(pw['detectable_effect'], signed=True)}"
        if pw.get("samples_per_variant") is not None:
            line += (f"; {pw['effect']:+g} needs {pw['samples_per_variant']} rows per variant "
                     f"({pw['more_samples_per_variant']} more)")
        out.print(line, markup=False)
        seq = result["sequential"]
        if seq["method"] != "none":
            out.print(f"  sequential ({seq['method']}): |z| {seq['z']:.3g} vs boundary {seq['boundary_z']:.3g} at "
                      f"{seq['information_fraction']:.0%} of the planned rows", markup=False)
        out.print(f"verdict: {result['verdict']}", markup=False)
    err = console(stderr=True)
    for warning in result["warnings"]:
        err.print(f"warning: {warning}", markup=False)
