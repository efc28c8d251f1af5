"""How comparisons, the model registry and A/B results look: a terminal table, Markdown for a PR comment, and a
self-contained HTML page. Results are plain dicts (the JSON contract); nothing here computes a statistic."""

from __future__ import annotations

import html

from ftspec.evals.gates import fmt

ROWS_IN_TEXT = 10  # changed rows shown in the terminal and in Markdown
_MARK = {"better": "▲ better", "worse": "▼ worse", "no change": "·"}


def _ci(ci) -> str:
    return "n/a" if not ci else f"[{fmt(ci[0])}, {fmt(ci[1])}]"


def _p(p) -> str:
    return "n/a" if p is None else ("<0.0001" if p < 1e-4 else f"{p:.4f}")


def _cell(text) -> str:
    return str("" if text is None else text).replace("|", "\\|").replace("\n", " ")


def _metric_cells(m: dict) -> list[str]:
    return [m["label"], m["slice"], str(m["n"]), f"{fmt(m['a'])} {_ci(m['a_ci'])}", f"{fmt(m['b'])} {_ci(m['b_ci'])}",
            f"{fmt(m['difference'], signed=True)} {_ci(m['difference_ci'])}", _p(m["p_value"]), _p(m["p_holm"]),
            _MARK[m["change"]]]


HEADERS = ("metric", "slice", "n", "A (CI)", "B (CI)", "B - A (CI)", "p", "p (Holm)", "")


def _eval_set_line(result: dict) -> str:
    sets = result["eval_set"]
    if sets["same"]:
        return f"same eval set ({result['a']['eval_set_sha256'][:12]}), {sets['shared']} examples"
    return (f"the {sets['shared']} examples both runs share (intersection): {sets['only_a']} only in A, "
            f"{sets['only_b']} only in B, {sets['changed_reference']} with another reference left out")


def show_compare(result: dict) -> None:
    from rich.table import Table

    from ftspec.ui.console import console

    out = console()
    out.print(f"[bold]A[/] {result['a']['run_id']}  →  [bold]B[/] {result['b']['run_id']}  ·  "
              f"{_eval_set_line(result)}", markup=True)
    table = Table(*HEADERS, box=None)
    for m in result["metrics"]:
        table.add_row(*_metric_cells(m), style={"better": "green", "worse": "red"}.get(m["change"]))
    out.print(table)
    s = result["summary"]
    out.print(f"{s['better']} better, {s['worse']} worse, {s['no change']} no detectable change "
              f"(Holm-adjusted p < {result['alpha']:g}); {result['changed_rows_total']} row scores changed")
    for row in result["changed_rows"][:ROWS_IN_TEXT]:
        out.print(f"  {row['change']:6} {row['metric']} {row['slice']}/{row['id']}: "
                  f"A {row['a_prediction']!r} → B {row['b_prediction']!r}", markup=False)
    out.print(f"HTML: {result.get('html')}", markup=False)


def compare_markdown(result: dict) -> str:
    s = result["summary"]
    icon = "❌" if s["worse"] else ("✅" if s["better"] else "➖")
    lines = [f"## ftspec compare {icon} `{result['a']['run_id']}` → `{result['b']['run_id']}`", "",
             f"{_eval_set_line(result)} · {result['confidence']:.0%} paired bootstrap CIs over "
             f"{result['samples']} resamples · {s['better']} better, {s['worse']} worse (Holm-adjusted "
             f"p < {result['alpha']:g})", "",
             "| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(_cell(c) for c in _metric_cells(m)) + " |" for m in result["metrics"]]
    rows = result["changed_rows"][:ROWS_IN_TEXT]
    if rows:
        lines += ["", f"<details><summary>{result['changed_rows_total']} rows changed (worst first)</summary>", "",
                  "| | metric | row | reference | A | B |", "|---|---|---|---|---|---|"]
        lines += [f"| {r['change']} | {_cell(r['metric'])} | {_cell(r['slice'])}/{_cell(r['id'])} | "
                  f"`{_cell(r['reference'])}` | `{_cell(r['a_prediction'])}` | `{_cell(r['b_prediction'])}` |"
                  for r in rows]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


_STYLE = ("body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
          "td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f4f4f4}"
          ".better{background:#e6f6e6}.worse{background:#fbe4e4}pre{white-space:pre-wrap;margin:0;max-width:40em}")


def compare_html(result: dict) -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in HEADERS)
    body = "".join(f"<tr class='{e(m['change'].replace(' ', '-'))}'>"
                   + "".join(f"<td>{e(c)}</td>" for c in _metric_cells(m)) + "</tr>" for m in result["metrics"])
    changed = "".join(
        f"<tr class='{'worse' if r['change'] == 'broken' else 'better'}'><td>{e(r['change'])}</td>"
        f"<td>{e(r['metric'])}</td><td>{e(r['slice'])}/{e(r['id'])}</td><td><pre>{e(r['prompt'] or '')}</pre></td>"
        f"<td><pre>{e(r['reference'] or '')}</pre></td><td><pre>{e(r['a_prediction'] or '')}</pre></td>"
        f"<td><pre>{e(r['b_prediction'] or '')}</pre></td></tr>" for r in result["changed_rows"])
    title = f"ftspec compare {result['a']['run_id']} → {result['b']['run_id']}"
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title><style>{_STYLE}</style>"
            f"</head><body><h1>{e(title)}</h1><p>{e(_eval_set_line(result))}</p>"
            f"<table><tr>{head}</tr>{body}</table>"
            f"<h2>Rows that changed ({result['changed_rows_total']}, worst first)</h2>"
            "<table><tr><th></th><th>metric</th><th>row</th><th>prompt</th><th>reference</th><th>A</th><th>B</th>"
            f"</tr>{changed}</table></body></html>\n")


def show_models(history: list[dict], current: str | None) -> None:
    from rich.table import Table

    from ftspec.ui.console import console

    table = Table("", "run", "promoted", "by", "verdict", "forced", "gates", box=None)
    for entry in reversed(history):
        gates = entry.get("gates") or []
        passed = sum(bool(g.get("passed")) for g in gates)
        table.add_row("*" if entry["run_id"] == current else "", entry["run_id"], entry["promoted_at"], entry["by"],
                      entry.get("verdict") or "n/a", "forced" if entry.get("forced") else "",
                      f"{passed}/{len(gates)}")
    console().print(table if history else "no model promoted yet: `ftspec promote RUN`")


def regression_markdown(section: dict) -> str:
    lines = [f"### Regression gates against `{section['against']}` "
             f"{'✅ pass' if section['passed'] else '❌ fail'}", "",
             "| | metric | slice | n | promoted | candidate | difference (CI) | tolerance |",
             "|---|---|---|---|---|---|---|---|"]
    for g in section["gates"]:
        mark = "✅" if g["passed"] else "❌"
        lines.append(f"| {mark} | {_cell(g['label'])} | {_cell(g['slice'])} | {g['n']} | {fmt(g['promoted'])} | "
                     f"{fmt(g['candidate'])} | {fmt(g['difference'], signed=True)} {_ci(g['difference_ci'])} | "
                     f"{_cell(g['tolerance'])} |")
    failed = [g for g in section["gates"] if not g["passed"]]
    if failed:
        lines += ["", "**Regressions**"] + [f"- `{g['label']}` on `{g['slice']}`: {_cell(g['reason'])}" for g in failed]
    return "\n".join(lines) + "\n"


def show_regression(section: dict) -> None:
    from ftspec.ui.console import console

    out = console()
    state = "[green]pass[/]" if section["passed"] else "[red]fail[/]"
    out.print(f"regression gates against {section['against']}: {state}", markup=True)
    for g in section["gates"]:
        mark = "✓" if g["passed"] else "✗"
        out.print(f"  {mark} {g['label']} [{g['slice']}] B-A {fmt(g['difference'], signed=True)} "
                  f"{_ci(g['difference_ci'])} tolerance {g['tolerance']}" + ("" if g["passed"] else f": {g['reason']}"),
                  markup=False)


def show_ab(result: dict) -> None:
    from ftspec.ui.console import console

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
            out.print(f"  {name}: n {v['n']}{users}, {fmt(v['value'])} {_ci(v['ci'])}", markup=False)
        out.print(f"  B - A: {fmt(result['difference'], signed=True)} {_ci(result['difference_ci'])}, "
                  f"p {_p(result['p_value'])} ({result['test']})"
                  + (f", Mann-Whitney p {_p(result['mann_whitney_p'])}" if "mann_whitney_p" in result else ""),
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
