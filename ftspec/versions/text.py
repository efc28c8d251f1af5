"""A comparison as text: Markdown for a PR comment and a self-contained HTML page, and the cells the terminal table
(ftspec.ui.versions) shares with them. Results are plain dicts (the JSON contract); nothing here computes a
statistic or prints."""

from __future__ import annotations

import html

from ftspec.evals.gates import fmt
from ftspec.evals.report import ci_text

ROWS_IN_TEXT = 10  # changed rows shown in the terminal and in Markdown
_MARK = {"better": "▲ better", "worse": "▼ worse", "no change": "·"}


def p_text(p) -> str:
    return "n/a" if p is None else ("<0.0001" if p < 1e-4 else f"{p:.4f}")


def _cell(text) -> str:
    return str("" if text is None else text).replace("|", "\\|").replace("\n", " ")


def metric_cells(m: dict) -> list[str]:
    return [m["label"], m["slice"], str(m["n"]), f"{fmt(m['a'])} {ci_text(m['a_ci'])}",
            f"{fmt(m['b'])} {ci_text(m['b_ci'])}", f"{fmt(m['difference'], signed=True)} {ci_text(m['difference_ci'])}",
            p_text(m["p_value"]), p_text(m["p_holm"]), _MARK[m["change"]]]


HEADERS = ("metric", "slice", "n", "A (CI)", "B (CI)", "B - A (CI)", "p", "p (Holm)", "")


def eval_set_line(result: dict) -> str:
    sets = result["eval_set"]
    if sets["same"]:
        return f"same eval set ({result['a']['eval_set_sha256'][:12]}), {sets['shared']} examples"
    return (f"the {sets['shared']} examples both runs share (intersection): {sets['only_a']} only in A, "
            f"{sets['only_b']} only in B, {sets['changed_reference']} with another reference left out")


def compare_markdown(result: dict) -> str:
    s = result["summary"]
    icon = "❌" if s["worse"] else ("✅" if s["better"] else "➖")
    lines = [f"## ftspec compare {icon} `{result['a']['run_id']}` → `{result['b']['run_id']}`", "",
             f"{eval_set_line(result)} · {result['confidence']:.0%} paired bootstrap CIs over "
             f"{result['samples']} resamples · {s['better']} better, {s['worse']} worse (Holm-adjusted "
             f"p < {result['alpha']:g})", "",
             "| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(_cell(c) for c in metric_cells(m)) + " |" for m in result["metrics"]]
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
                   + "".join(f"<td>{e(c)}</td>" for c in metric_cells(m)) + "</tr>" for m in result["metrics"])
    changed = "".join(
        f"<tr class='{'worse' if r['change'] == 'broken' else 'better'}'><td>{e(r['change'])}</td>"
        f"<td>{e(r['metric'])}</td><td>{e(r['slice'])}/{e(r['id'])}</td><td><pre>{e(r['prompt'] or '')}</pre></td>"
        f"<td><pre>{e(r['reference'] or '')}</pre></td><td><pre>{e(r['a_prediction'] or '')}</pre></td>"
        f"<td><pre>{e(r['b_prediction'] or '')}</pre></td></tr>" for r in result["changed_rows"])
    title = f"ftspec compare {result['a']['run_id']} → {result['b']['run_id']}"
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title><style>{_STYLE}</style>"
            f"</head><body><h1>{e(title)}</h1><p>{e(eval_set_line(result))}</p>"
            f"<table><tr>{head}</tr>{body}</table>"
            f"<h2>Rows that changed ({result['changed_rows_total']}, worst first)</h2>"
            "<table><tr><th></th><th>metric</th><th>row</th><th>prompt</th><th>reference</th><th>A</th><th>B</th>"
            f"</tr>{changed}</table></body></html>\n")
