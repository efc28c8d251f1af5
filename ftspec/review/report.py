"""The human section of report.md and report.html, when the run has imported reviews (`ftspec review import`): the
human metrics with their CIs (from the gates), how far the annotators agree (Krippendorff's alpha per criterion and
for the preferences) and how well each automatic metric follows each human one (Spearman's rho). Both read
report.json's `human` section and its gates, so the three files say the same."""

from __future__ import annotations

from ftspec.evals.gates import fmt
from ftspec.metrics import name_of
from ftspec.review.summary import HUMAN_METRICS


def _ci(ci: list | None) -> str:
    return "n/a" if not ci else f"[{fmt(ci[0])}, {fmt(ci[1])}]"


def human_rows(report: dict) -> dict | None:
    """The section's tables as rows of text cells, or None when no review was imported."""
    human = report.get("human")
    if not human:
        return None
    metrics = [[g["label"], g["slice"], fmt(g["value"]), _ci(g["value_ci"]), g["threshold"], str(g["n"]),
                "pass" if g["passed"] else "FAIL"]
               for g in report["gates"] if name_of(g["label"]) in HUMAN_METRICS]
    floor = human.get("min_agreement")
    agreement = [[name, e["level"], str(e["annotators"]), f"{e['pairable_rows']} of {e['rows']}",
                  "n/a" if e["alpha"] is None else f"{e['alpha']:.3f}",
                  "not gated" if floor is None else ("pass" if e.get("passed") else "FAIL")]
                 for name, e in human["agreement"].items()]
    correlation = [[c["automatic"], c["human"], str(c["n"]), "n/a" if c["rho"] is None else f"{c['rho']:.3f}",
                    "n/a" if c["p_value"] is None else f"{c['p_value']:.3g}"] for c in human["correlation"]]
    return {"ratings": human["ratings"], "preferences": human["preferences"], "min_agreement": floor,
            "metrics": metrics, "agreement": agreement, "correlation": correlation}


METRIC_HEAD = ["metric", "slice", "value", "CI", "threshold", "n", "verdict"]
AGREEMENT_HEAD = ["criterion", "level", "annotators", "rows judged twice", "Krippendorff's alpha", "gate"]
CORRELATION_HEAD = ["automatic", "human", "rows", "Spearman rho", "p value"]


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    def line(cells):
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"
    return [line(head), "|" + "---|" * len(head), *map(line, rows), ""]


def human_markdown(report: dict) -> list[str]:
    """report.md's lines for the human section; none without imported reviews."""
    rows = human_rows(report)
    if rows is None:
        return []
    floor = "" if rows["min_agreement"] is None else f" · review.min_agreement {rows['min_agreement']:g}"
    lines = ["**Human review**", "",
             f"{rows['ratings']} ratings and {rows['preferences']} pairwise judgements imported{floor}", ""]
    lines += _table(METRIC_HEAD, rows["metrics"]) if rows["metrics"] else \
        ["No human metric is gated: add human_rating, human_pass_rate or human_win_rate to `metrics:`.", ""]
    lines += ["Annotator agreement", ""] + _table(AGREEMENT_HEAD, rows["agreement"])
    if rows["correlation"]:
        lines += ["Agreement of the automatic metrics with the human ones (per row)", ""]
        lines += _table(CORRELATION_HEAD, rows["correlation"])
    return lines


_HTML = """
<h2>Human review</h2>
<p class="muted" id="human-counts">{{ h.ratings }} ratings and {{ h.preferences }} pairwise judgements imported
{%- if h.min_agreement is not none %} · review.min_agreement {{ h.min_agreement }}{% endif %}</p>
{% for id, title, head, rows in tables %}
{% if rows %}
<h3>{{ title }}</h3>
<table id="{{ id }}"><thead><tr>{% for c in head %}<th>{{ c }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in rows %}<tr>{% for c in row %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}</tbody></table>
{% endif %}
{% endfor %}
"""


def human_html(report: dict) -> str:
    """report.html's human section (escaped HTML), or "" without imported reviews."""
    rows = human_rows(report)
    if rows is None:
        return ""
    from jinja2 import Environment

    tables = [("human-metrics", "Human metrics", METRIC_HEAD, rows["metrics"]),
              ("human-agreement", "Annotator agreement", AGREEMENT_HEAD, rows["agreement"]),
              ("human-correlation", "Automatic metrics against the human ones (per row)", CORRELATION_HEAD,
               rows["correlation"])]
    env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    return env.from_string(_HTML).render(h=rows, tables=tables)
