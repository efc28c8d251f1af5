"""sweep.html: a self-contained page (inline SVG, no scripts) with the objective per trial and the objective
against the most important parameter."""

from __future__ import annotations

import html
import math

_W, _H, _PAD = 520, 260, 40


def _points(pairs: list[tuple[float, float]], log_x: bool = False) -> str:
    if not pairs:
        return "<p>no complete trials yet</p>"
    xs = [math.log10(x) if log_x else x for x, _ in pairs]
    ys = [y for _, y in pairs]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)

    def scale(v, lo, hi, size):
        return _PAD + (size - 2 * _PAD) * ((v - lo) / (hi - lo) if hi > lo else 0.5)

    dots = "".join(f'<circle cx="{scale(x, x0, x1, _W):.1f}" cy="{_H - scale(y, y0, y1, _H):.1f}" r="4">'
                   f"<title>{html.escape(f'{raw:g} -> {y:.4g}')}</title></circle>"
                   for x, y, (raw, _) in zip(xs, ys, pairs, strict=True))
    axes = (f'<text x="{_PAD}" y="{_H - 8}">{x0:.3g}{" (log10)" if log_x else ""}</text>'
            f'<text x="{_W - _PAD}" y="{_H - 8}" text-anchor="end">{x1:.3g}</text>'
            f'<text x="4" y="{_PAD}">{y1:.4g}</text><text x="4" y="{_H - _PAD}">{y0:.4g}</text>')
    return f'<svg width="{_W}" height="{_H}" role="img">{axes}{dots}</svg>'


def sweep_html(report: dict) -> str:
    rows = [r for r in report["trials"] if r["objective"] is not None]
    per_trial = _points([(float(r["number"]), float(r["objective"])) for r in rows])
    top = next(iter(report.get("importances") or {}), None)
    numeric = [r for r in rows if top and isinstance(r["settings"].get(top), (int, float))]
    scatter = _points([(float(r["settings"][top]), float(r["objective"])) for r in numeric],
                      log_x=top == "learning_rate" and all(r["settings"][top] > 0 for r in numeric)) if top else ""
    table = "".join(
        f"<tr><td>{r['number']}</td><td>{html.escape(r['state'])}</td><td>{html.escape(str(r['run_id'] or ''))}</td>"
        f"<td>{html.escape(', '.join(f'{k}={v}' for k, v in r['settings'].items()))}</td>"
        f"<td>{'' if r['objective'] is None else format(r['objective'], '.4g')}</td>"
        f"<td>{html.escape(r['skipped'] or ((r['overfitting'] or {}).get('message') or ''))}</td></tr>"
        for r in report["trials"])
    best = report.get("best")
    title = f"sweep {html.escape(report['sweep_id'])}: {html.escape(report['objective'])} on the dev split"
    return ("<!doctype html><html><head><meta charset='utf-8'><title>" + title + "</title><style>"
            "body{font-family:sans-serif;margin:2em}svg{border:1px solid #ccc}circle{fill:#36c}"
            "td,th{padding:2px 8px;border-bottom:1px solid #eee;text-align:left}</style></head><body>"
            f"<h1>{title}</h1><p>{html.escape(report['strategy'])}, {html.escape(report['direction'])}; "
            f"stopped: {html.escape(report['stopped'])}</p>"
            + (f"<p>best: trial {best['number']} ({best['objective']:.4g})</p>" if best else "")
            + f"<h2>{html.escape(report['objective'])} per trial</h2>{per_trial}"
            + (f"<h2>{html.escape(report['objective'])} against {html.escape(top)} (most important)</h2>{scatter}"
               if top else "")
            + _curves(report.get("curves") or {})
            + "<h2>Trials</h2><table><tr><th>#</th><th>state</th><th>run</th><th>settings</th><th>objective</th>"
              "<th>note</th></tr>" + table + "</table></body></html>\n")


_COLOURS = ("#36c", "#c63", "#393")


def _curves(curves: dict[str, list[list[float]]]) -> str:
    """The dev-loss curves of the best trials, overlaid (one polyline each, a shared scale)."""
    points = [(step, loss) for curve in curves.values() for step, loss in curve]
    if not points:
        return ""
    x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
    y0, y1 = min(p[1] for p in points), max(p[1] for p in points)

    def xy(step, loss):
        x = _PAD + (_W - 2 * _PAD) * ((step - x0) / (x1 - x0) if x1 > x0 else 0.5)
        y = _H - _PAD - (_H - 2 * _PAD) * ((loss - y0) / (y1 - y0) if y1 > y0 else 0.5)
        return f"{x:.1f},{y:.1f}"

    lines = "".join(f'<polyline fill="none" stroke="{_COLOURS[i % 3]}" stroke-width="2" '
                    f'points="{" ".join(xy(s, v) for s, v in curve)}"><title>trial {html.escape(n)}</title></polyline>'
                    for i, (n, curve) in enumerate(curves.items()))
    legend = ", ".join(f'<span style="color:{_COLOURS[i % 3]}">trial {html.escape(n)}</span>'
                       for i, n in enumerate(curves))
    return (f"<h2>Dev loss of the best trials</h2><p>{legend}</p><svg width=\"{_W}\" height=\"{_H}\" role=\"img\">"
            f'<text x="{_PAD}" y="{_H - 8}">step {x0:g}</text><text x="{_W - _PAD}" y="{_H - 8}" '
            f'text-anchor="end">{x1:g}</text><text x="4" y="{_PAD}">{y1:.4g}</text>'
            f'<text x="4" y="{_H - _PAD}">{y0:.4g}</text>{lines}</svg>')
