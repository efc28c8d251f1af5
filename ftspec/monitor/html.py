"""The monitor report as a self-contained HTML page with inline SVG curves (text, written beside report.json), and
the cell helpers the terminal view shares."""

from __future__ import annotations

import html
import json

VERDICT_STYLE = {"ok": "green", "watch": "yellow", "refine_tune": "bold red"}
COLOURS = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2")


def _pct(value) -> str:
    return "-" if value is None else f"{value:.1%}"


def _num(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def _worst_psi(window: dict):
    values = [v for v in window["drift"]["psi"].values() if v is not None]
    return max(values) if values else None


def _quality_cell(window: dict) -> str:
    parts = []
    for label, result in window["metrics"].items():
        if result.get("value") is not None:
            parts.append(f"{label} {_num(result['value'])}")
    return ", ".join(parts) or "-"


# -- HTML ------------------------------------------------------------------------------------------------------------

CSS = """body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#1f2937;padding:0 16px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #e5e7eb}table{border-collapse:collapse}
td,th{padding:3px 10px;border-bottom:1px solid #f1f5f9;text-align:left;vertical-align:top}
.ok{color:#15803d}.watch{color:#b45309}.refine_tune{color:#b91c1c;font-weight:600}
.charts{display:flex;flex-wrap:wrap;gap:16px}.chart{border:1px solid #e5e7eb;border-radius:6px;padding:8px}
code{background:#f3f4f6;padding:0 3px;border-radius:3px}.muted{color:#6b7280}"""


def monitor_html(report: dict) -> str:
    e = html.escape
    labels = [w["label"] for w in report["windows"]]
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>ftspec monitor: {e(report['spec']['name'])}"
             f"</title><style>{CSS}</style></head><body>",
             f"<h1>ftspec monitor: {e(report['spec']['name'])} <span class='{e(report['verdict'])}'>"
             f"{e(report['verdict'])}</span></h1>",
             f"<p class='muted'>{report['rows']['used']} rows ({report['rows']['bad']} bad) in {len(labels)} "
             f"{e(report['window'])} windows; training: {report['training']['rows']} rows from "
             f"{e(report['training']['source'])}. Report {e(report['id'])}.</p>"]
    parts.append(_reasons_html(report))
    parts.append("<h2>Drift and quality over the windows</h2><div class='charts'>")
    parts.append(_chart("Input drift (share of prompts / words)", labels, [
        ("novel prompts", [w["drift"]["novelty"] for w in report["windows"]]),
        ("OOV words", [w["drift"]["oov"] for w in report["windows"]]),
        ("output fails", [w["output_failure"] for w in report["windows"]])],
        _limits(report, ("novelty",)), fixed=(0, 1), ident="drift"))
    parts.append(_chart("PSI against training", labels, [
        (name, [w["drift"]["psi"].get(name) for w in report["windows"]])
        for name in ("prompt_chars", "prompt_tokens", "output_chars")], _limits(report, ("psi",)), ident="psi"))
    for label in _quality_labels(report):
        values = [(w["metrics"].get(label) or {}).get("value") for w in report["windows"]]
        cis = [(w["metrics"].get(label) or {}).get("ci") for w in report["windows"]]
        parts.append(_chart(f"Quality: {label} (with CI)", labels, [(label, values)], _gate(report, label),
                            band=cis, ident=f"quality-{label}"))
    parts.append("</div>")
    parts.append(_windows_html(report))
    parts.append(_clusters_html(report))
    parts.append(_bad_rows_html(report))
    parts.append(f"<h2>Raw report</h2><details><summary>report.json</summary><pre>"
                 f"{e(json.dumps({k: v for k, v in report.items() if k != 'windows'}, indent=1)[:20000])}</pre>"
                 f"</details></body></html>")
    return "".join(parts) + "\n"


def _limits(report: dict, checks: tuple) -> list[tuple[float, str]]:
    """The watch and refine_tune lines of a check, from the thresholds the report was judged by."""
    limits = report.get("thresholds") or {}
    return [(limits[level][check], f"{check} {level}") for level in ("watch", "refine_tune") for check in checks
            if check in limits.get(level, {})]


def _gate(report: dict, label: str) -> list[tuple[float, str]]:
    """The spec's gate of a metric as a line: `>= 0.95` -> (0.95, 'gate >= 0.95')."""
    for metric in report.get("metrics", []):
        if metric["label"] == label:
            try:
                return [(float(metric["threshold"].split()[1]), f"gate {metric['threshold']}")]
            except (IndexError, ValueError):
                return []
    return []


def _quality_labels(report: dict) -> list[str]:
    seen = []
    for w in report["windows"]:
        for label, result in w["metrics"].items():
            if label not in seen and result.get("value") is not None:
                seen.append(label)
    return seen


def _chart(title: str, labels: list[str], series: list, limits: list, fixed=None, band=None, ident: str = "") -> str:
    width, height, pad = 500, 220, 40
    values = [v for _, vs in series for v in vs if v is not None]
    values += [v for v, _ in limits] + [b for pair in (band or []) if pair for b in pair]
    low, high = fixed or (min(values, default=0.0), max(values, default=1.0))
    low = min(low, 0.0)
    high = high if high > low else low + 1
    n = max(1, len(labels) - 1)

    def x(i):
        return pad + i * (width - 2 * pad) / n

    def y(v):
        return height - pad + (pad * 2 - height) * (v - low) / (high - low)

    svg = [f"<div class='chart'><b>{html.escape(title)}</b><br><svg id='{html.escape(ident)}' width='{width}' "
           f"height='{height}' "
           f"xmlns='http://www.w3.org/2000/svg' role='img'>",
           f"<line x1='{pad}' y1='{height - pad}' x2='{width - pad}' y2='{height - pad}' stroke='#9ca3af'/>",
           f"<text x='4' y='{y(high) + 4:.0f}' font-size='10'>{high:.3g}</text>"
           f"<text x='4' y='{y(low) + 4:.0f}' font-size='10'>{low:.3g}</text>"]
    if band:
        points = [(x(i), pair) for i, pair in enumerate(band) if pair]
        if points:
            upper = " ".join(f"{px:.1f},{y(pair[1]):.1f}" for px, pair in points)
            lower = " ".join(f"{px:.1f},{y(pair[0]):.1f}" for px, pair in reversed(points))
            svg.append(f"<polygon points='{upper} {lower}' fill='#93c5fd' opacity='0.45'/>")
    for value, level in limits:
        colour = "#b45309" if "watch" in level else "#b91c1c"
        svg.append(f"<line x1='{pad}' x2='{width - pad}' y1='{y(value):.1f}' y2='{y(value):.1f}' stroke='{colour}' "
                   f"stroke-dasharray='4 3'/><text x='{width - pad - 2}' y='{y(value) - 3:.1f}' font-size='9' "
                   f"text-anchor='end' "
                   f"fill='{colour}'>{html.escape(level)}</text>")
    for k, (name, vs) in enumerate(series):
        colour = COLOURS[k % len(COLOURS)]
        points = [(x(i), y(v)) for i, v in enumerate(vs) if v is not None]
        if points:
            svg.append(f"<polyline class='series' fill='none' stroke='{colour}' stroke-width='2' points='"
                       + " ".join(f"{px:.1f},{py:.1f}" for px, py in points) + "'/>")
            svg += [f"<circle cx='{px:.1f}' cy='{py:.1f}' r='3' fill='{colour}'/>" for px, py in points]
        svg.append(f"<text x='{pad + 130 * k}' y='14' font-size='11' fill='{colour}'>{html.escape(name)}</text>")
    step = max(1, len(labels) // 8)
    for i, label in enumerate(labels):
        if i % step == 0:
            svg.append(f"<text x='{x(i):.1f}' y='{height - pad + 16}' font-size='10' text-anchor='middle'>"
                       f"{html.escape(label)}</text>")
    svg.append("</svg></div>")
    return "".join(svg)


def _reasons_html(report: dict) -> str:
    e = html.escape
    rows = "".join(f"<tr><td class='{e(r['level'])}'>{e(r['level'])}</td><td>{e(r['text'])}</td>"
                   f"<td><code>{e(r['spec_path'])}</code> {e(r['location'])}</td><td>{e(', '.join(r['windows']))}"
                   f"</td></tr>" for r in report["reasons"])
    problems = "".join(f"<p class='refine_tune'>error: {e(p)}</p>" for p in report["problems"])
    cadence = report["cadence"]
    plan = ""
    if report["plan"]:
        steps = "".join(f"<li>{e(step)}</li>" for step in report["plan"]["next_steps"])
        plan = (f"<h2>Re-fine-tune plan</h2><p>{report['plan']['sample_rows']} novel prompts to label: "
                f"<code>{e(report['files'].get('refine_sample.jsonl', ''))}</code>; degraded windows: "
                f"{e(', '.join(report['plan']['degraded_windows']))}.</p><ol>{steps}</ol>")
    return (f"{problems}<h2>Why</h2><table id='reasons'><tr><th>level</th><th>reason</th><th>threshold</th>"
            "<th>windows</th></tr>"
            f"{rows or '<tr><td colspan=4>every window within its thresholds</td></tr>'}</table>"
            f"<p>Cadence: re-fine-tune <b>{e(cadence['suggested'])}</b> ({e(cadence['basis'])}).</p>{plan}")


def _windows_html(report: dict) -> str:
    e = html.escape
    head = ("<h2>Windows</h2><table id='windows'><tr><th>window</th><th>rows</th><th>novel</th><th>OOV</th>"
            "<th>PSI worst</th>"
            "<th>output fails</th><th>quality</th><th>grew most</th><th>verdict</th></tr>")
    rows = []
    for w in report["windows"]:
        grew = ", ".join(t["term"] for t in w["drift"]["grew"][:5])
        rows.append(f"<tr><td>{e(w['label'])}</td><td>{w['rows']}</td><td>{_pct(w['drift']['novelty'])}</td>"
                    f"<td>{_pct(w['drift']['oov'])}</td><td>{_num(_worst_psi(w))}</td>"
                    f"<td>{_pct(w['output_failure'])}</td><td>{e(_quality_cell(w))}</td><td>{e(grew)}</td>"
                    f"<td class='{e(w['verdict'])}'>{e(w['verdict'] if w['judged'] else 'ok (few rows)')}</td></tr>")
    return head + "".join(rows) + "</table>"


def _clusters_html(report: dict) -> str:
    e = html.escape
    if not report["clusters"]:
        return "<h2>Novel clusters</h2><p>none</p>"
    rows = "".join(
        f"<tr><td>#{c['id']}</td><td>{c['size']}</td><td>{e(c['first_window'])}</td><td>"
        + "<br>".join(f"{e(x['prompt'][:160])} <span class='muted'>{e(x['where'])}</span>" for x in c["examples"])
        + "</td></tr>" for c in report["clusters"])
    return ("<h2>Novel clusters</h2><table id='clusters'><tr><th>cluster</th><th>prompts</th><th>since</th>"
            "<th>examples</th></tr>"
            f"{rows}</table>")


def _bad_rows_html(report: dict) -> str:
    e = html.escape
    if not report["rows"]["bad"]:
        return ""
    rows = "".join(f"<tr><td>{e(r['file'])}:{r['line']}</td><td>{e(r['message'])}</td></tr>"
                   for r in report["bad_rows"])
    return (f"<h2>Bad log rows ({report['rows']['bad']}, first {len(report['bad_rows'])} listed)</h2>"
            f"<table>{rows}</table>")
