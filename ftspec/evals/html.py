"""report.html: one self-contained page (inline CSS and SVG, no script, no network) for people to read.

Loss curves, the gates, metric bars per model and per slice, and the worst examples side by side."""

from __future__ import annotations

from ftspec.evals.gates import TUNED, Scorer, fmt, generation_failed, slice_rows
from ftspec.evals.metrics import metric_label, row_key
from ftspec.evals.report import ci_text, gate_name
from ftspec.evals.runs import TrainLog
from ftspec.metrics import METRICS, name_of
from ftspec.spec.models import MetricSpec

_W, _H, _PAD = 960, 300, 56
_SETTLE = 0.1  # the share of the steps whose loss may be clipped at the top of the chart
_Y_TICKS = 5
_TEXT_LIMIT = 1200
_COLOURS = {"finetuned": "#2563eb", "base_zero_shot": "#9ca3af", "base_few_shot": "#f59e0b"}


def loss_chart(log: TrainLog, overfitting: dict) -> dict | None:
    """Coordinates for the SVG loss curves (train and eval loss against the step), or None without points.

    The first steps' loss is often many times the rest (a model's first batches), which flattens the part worth
    reading, near the best step. So when the losses after the first tenth of the steps fill less than half the
    height, the axis covers those and the earlier points are drawn clipped at the top edge (and the page says so)."""
    points = log.train + log.eval
    if not points:
        return None
    steps, losses = [s for s, _ in points], [v for _, v in points]
    x0, x1 = min(steps), max(steps)
    y0, top = min(losses), max(losses)
    later = [v for s, v in points if s >= x0 + _SETTLE * (x1 - x0)]
    clipped = bool(later) and max(later) - y0 < 0.5 * (top - y0)
    y1 = max(later) + 0.05 * (max(later) - y0) if clipped else top
    x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1e-9)

    def x(step):
        return round(_PAD + (step - x0) / (x1 - x0) * (_W - 2 * _PAD), 1)

    def y(loss):
        return round(max(_PAD, _H - _PAD - (loss - y0) / (y1 - y0) * (_H - 2 * _PAD)), 1)  # clipped at the top

    def line(series):
        return " ".join(f"{x(s)},{y(v)}" for s, v in series)

    marks = [(overfitting.get(key), label, colour) for key, label, colour in
             (("best_step", "best eval loss", "#16a34a"), ("step", "overfitting starts", "#dc2626"))]
    ticks = [y0 + (y1 - y0) * i / (_Y_TICKS - 1) for i in range(_Y_TICKS)]
    return {"w": _W, "h": _H, "pad": _PAD, "train": line(log.train), "eval": line(log.eval),
            "eval_dots": [(x(s), y(v)) for s, v in log.eval],
            "marks": [(x(step), f"{label} (step {step})", colour) for step, label, colour in marks
                      if step is not None and (label != "overfitting starts" or overfitting.get("detected"))],
            "x_labels": [(x(x0), x0), (x((x0 + x1) / 2), round((x0 + x1) / 2)), (x(x1), x1)],
            "y_labels": [(y(v), f"{v:.3g}") for v in ticks],
            "clipped": f"{top:.3g}" if clipped else None}


def metric_bars(models: dict) -> list[dict]:
    """One bar chart per (slice, metric): a bar per model, scaled to the metric's range."""
    charts = []
    if not models:
        return charts
    slices = list(next(iter(models.values())).keys())
    for slice_name in slices:
        metrics = list(next(iter(models.values()))[slice_name].keys())
        for label in metrics:
            values = {m: models[m].get(slice_name, {}).get(label) for m in models}
            declared = METRICS[name_of(label)]
            known = [v for v in values.values() if v is not None]
            # a bounded metric fills its range; an unbounded one (perplexity, latency) the largest value shown
            top = declared.high or (max(known) if known and max(known) > 0 else 1.0)
            unit = f" {declared.unit}" if declared.unit else ""
            bars = [{"model": m, "value": fmt(v) + ("" if v is None else unit),
                     "width": 0 if v is None else round(max(0.0, min(v / top, 1)) * 300, 1),
                     "colour": _COLOURS.get(m, "#6b7280"), "y": 6 + i * 22} for i, (m, v) in enumerate(values.items())]
            charts.append({"slice": slice_name, "metric": label, "bars": bars, "height": 12 + 22 * len(bars),
                           "better": declared.direction, "unit": declared.unit})
    return charts



def _focus_metric(scorer: Scorer) -> MetricSpec:
    """The metric the worst examples are ranked by: the first per-example one the spec gates on."""
    for metric in scorer.spec.metrics:
        if METRICS[metric.name].share:
            return metric
    return MetricSpec(name="token_f1", threshold=">= 0")


def _baseline_name(scorer: Scorer) -> str | None:
    named = [m.vs_baseline for m in scorer.spec.metrics if m.vs_baseline]
    present = [m for m in scorer.models() if m != TUNED]
    return next((m for m in named if m in present), present[0] if present else None)


def worst_examples(scorer: Scorer, limit: int = 8) -> dict:
    metric = _focus_metric(scorer)
    baseline = _baseline_name(scorer)
    tuned_scores = _scores(scorer, TUNED, metric)
    base_scores = _scores(scorer, baseline, metric) if baseline else {}
    base_rows = {row_key(r, i): r for i, r in enumerate(_judgeable(scorer, baseline, metric.slice))} \
        if baseline else {}
    ranked = []
    for i, row in enumerate(_judgeable(scorer, TUNED, metric.slice)):
        key = row_key(row, i)
        tuned, base = tuned_scores.get(key), base_scores.get(key)
        if tuned is not None and tuned >= 1.0:
            continue  # a perfect answer is no example of what went wrong
        # failed generations first, then the lowest scores, then where the baseline did better
        order = (-1.0 if tuned is None else tuned, -(base or 0.0))
        ranked.append((order, key, row, tuned, base))
    ranked.sort(key=lambda item: item[0])
    examples = []
    for _, key, row, tuned, base in ranked[:limit]:
        other = base_rows.get(key, {})
        examples.append({"id": key, "prompt": _clip(row.get("prompt")), "reference": _clip(row.get("reference")),
                         "tuned": _output(row), "tuned_score": _score_text(row, tuned),
                         "base": _output(other) if other else "(no prediction)",
                         "base_score": _score_text(other, base) if other else "n/a"})
    return {"metric": metric_label(metric), "slice": metric.slice, "baseline": baseline, "rows": examples}


def _judgeable(scorer: Scorer, model: str | None, slice_name: str) -> list[dict]:
    return slice_rows(scorer.by_model.get(model, []), slice_name) if model else []


def _scores(scorer: Scorer, model: str, metric: MetricSpec) -> dict[str, float]:
    scored = scorer.cell(model, metric.slice, metric).scored
    if scored.per_example is None:
        return {}
    return dict(zip(scored.keys, scored.per_example.tolist(), strict=True))


def _score_text(row: dict, score: float | None) -> str:
    return "failed" if generation_failed(row) else fmt(score)


def _output(row: dict) -> str:
    if generation_failed(row):
        return f"[generation failed: {_clip(row.get('error')) or 'no prediction text'}]"
    return _clip(row.get("prediction"))


def _clip(text: object) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= _TEXT_LIMIT else text[:_TEXT_LIMIT] + " …"


def report_html(report: dict, log: TrainLog, scorer: Scorer) -> str:
    from jinja2 import Environment

    env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = fmt
    env.filters["ci"] = ci_text
    env.filters["gate_name"] = gate_name
    return env.from_string(_TEMPLATE).render(
        r=report, chart=loss_chart(log, report["overfitting"]), bars=metric_bars(report["models"]),
        worst=worst_examples(scorer), human=_human_section(report), reward=_reward_section(report),
        colours={m: _COLOURS.get(m, "#6b7280") for m in report["models"]})


def _human_section(report: dict) -> str:
    """Imported human reviews (ftspec review import): their metrics, agreement and correlation, as HTML."""
    from ftspec.review.report import human_html

    return human_html(report)


def _reward_section(report: dict) -> str:
    """An online-RL run's reward curve (grpo), as inline SVG."""
    from ftspec.evals.reward_curve import reward_svg

    return reward_svg(report)


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ftspec eval: {{ r.spec.name }} ({{ r.verdict }})</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1100px;
       color: #111827; padding: 0 1rem; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
.verdict { display: inline-block; padding: .1rem .6rem; border-radius: .3rem; color: #fff; }
.pass { background: #16a34a; } .fail { background: #dc2626; }
table { border-collapse: collapse; width: 100%; }
.wide { overflow-x: auto; max-width: 100%; }
td.reason { color: #7f1d1d; padding-top: 0; overflow-wrap: anywhere; }
tr:has(+ tr.reason-row) td { border-bottom: none; }
tr.warn td { background: #fffbeb; }
.key { display: inline-block; width: 1.6rem; vertical-align: middle; margin: 0 .3rem 0 .8rem; }
th, td { border-bottom: 1px solid #e5e7eb; padding: .3rem .5rem; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.failed td, tr.reason-row.failed td { background: #fef2f2; }
pre { white-space: pre-wrap; word-break: break-word; margin: 0; font-size: 12px; max-height: 16rem;
      overflow: auto; }
.bars { display: flex; flex-wrap: wrap; gap: 1rem; }
.bar { border: 1px solid #e5e7eb; border-radius: .3rem; padding: .4rem; }
.muted { color: #6b7280; }
</style>
</head>
<body>
<h1>ftspec eval: {{ r.spec.name }} <span class="verdict {{ r.verdict }}">{{ r.verdict }}</span></h1>
<p class="muted">Run {{ r.run_id }} · {{ r.counts.passed }} of {{ r.counts.gates }} gates passed ·
{{ "%d"|format(r.bootstrap.confidence * 100) }}% bootstrap CI over {{ r.bootstrap.samples }} resamples ·
{{ r.created }}</p>
{% if r.problems %}
<h2>Problems with the predictions</h2>
<ul id="problems">{% for p in r.problems %}<li>{{ p }}</li>{% endfor %}</ul>
{% endif %}

<h2>Gates</h2>
<div class="wide">
<table id="gates">
<thead><tr><th></th><th>metric</th><th>slice</th><th>value</th><th>CI</th><th>threshold</th><th>baseline</th>
<th>margin (CI)</th><th>n</th><th>wrong</th><th>invalid</th><th>failed</th></tr></thead>
<tbody>
{% for g in r.gates %}
<tr class="{{ 'passed' if g.passed else 'failed' }}">
<td><span class="verdict {{ 'pass' if g.passed else 'fail' }}">{{ "pass" if g.passed else "FAIL" }}</span></td>
<td>{{ g|gate_name }}</td><td>{{ g.slice }}</td>
<td class="num">{{ g.value|fmt }}{% if g.unit %} {{ g.unit }}{% endif %}</td><td class="num">{{ g.value_ci|ci }}</td>
<td>{{ g.threshold }}{% if g.gate_on_lower_bound %} (CI bound){% endif %}</td>
<td>{% if g.vs_baseline %}{{ g.baseline_value|fmt }} ({{ g.vs_baseline }}){% endif %}</td>
<td class="num">{% if g.vs_baseline %}{{ g.margin|fmt(true) }} {{ g.margin_ci|ci }}{% endif %}</td>
<td class="num">{{ g.n }}</td><td class="num">{{ g.wrong if g.wrong is not none else "" }}</td>
<td class="num">{{ g.invalid }}</td><td class="num">{{ g.failed }}</td>
</tr>
{% if g.reason or g.method %}
<tr class="reason-row {{ 'passed' if g.passed else 'failed' }}"><td></td><td class="reason" colspan="11">
{% if g.reason %}{{ g.reason }}{% endif %}{% if g.reason and g.method %}<br>{% endif %}
{% if g.method %}<span class="muted">measured {{ g.method }}</span>{% endif %}</td></tr>
{% endif %}
{% endfor %}
</tbody>
</table>
</div>
<p class="muted">Margins are improvements over the baseline: positive is better for every metric (for perplexity
and latency, baseline minus fine-tuned).</p>
{% if r.slices %}

<h2>Slices</h2>
{% for e in r.slices if e.warning %}<p class="slice-warning">⚠ {{ e.warning }}</p>
{% endfor %}
<table id="slices">
<thead><tr><th></th><th>slice</th><th>metric</th><th>fine-tuned</th><th>whole eval set</th><th>gated</th></tr></thead>
<tbody>
{% for e in r.slices %}
<tr class="{{ 'warn' if e.far_below else 'ok' }}"><td>{{ "⚠" if e.far_below else "" }}</td><td>{{ e.slice }}</td>
<td>{{ e.metric }}</td><td class="num">{{ e.value|fmt }}</td><td class="num">{{ e.overall|fmt }}</td>
<td>{{ "yes" if e.gated else "no" }}</td></tr>
{% endfor %}
</tbody>
</table>
{% endif %}
{{ human|safe }}

<h2>Loss curves</h2>
<p>{{ r.overfitting.message }}</p>
{% if chart %}
<svg id="loss-curves" xmlns="http://www.w3.org/2000/svg" width="{{ chart.w }}" height="{{ chart.h }}"
     viewBox="0 0 {{ chart.w }} {{ chart.h }}" role="img" aria-label="train and eval loss by step">
<rect x="0" y="0" width="{{ chart.w }}" height="{{ chart.h }}" fill="#fff"/>
<line x1="{{ chart.pad }}" y1="{{ chart.h - chart.pad }}" x2="{{ chart.w - chart.pad }}"
      y2="{{ chart.h - chart.pad }}" stroke="#9ca3af"/>
<line x1="{{ chart.pad }}" y1="{{ chart.pad }}" x2="{{ chart.pad }}" y2="{{ chart.h - chart.pad }}" stroke="#9ca3af"/>
{% for x, label in chart.x_labels %}<text x="{{ x }}" y="{{ chart.h - chart.pad + 16 }}" font-size="11"
 text-anchor="middle">{{ label }}</text>{% endfor %}
{% for y, label in chart.y_labels %}<text x="{{ chart.pad - 4 }}" y="{{ y }}" font-size="11"
 text-anchor="end">{{ label }}</text>{% endfor %}
{% for y, label in chart.y_labels %}<line x1="{{ chart.pad }}" y1="{{ y }}" x2="{{ chart.w - chart.pad }}" y2="{{ y }}"
 stroke="#f3f4f6"/>{% endfor %}
<text x="{{ chart.w / 2 }}" y="{{ chart.h - 8 }}" font-size="11" text-anchor="middle">step</text>
{% for x, label, colour in chart.marks %}
<line class="mark" x1="{{ x }}" y1="{{ chart.pad }}" x2="{{ x }}" y2="{{ chart.h - chart.pad }}" stroke="{{ colour }}"
      stroke-dasharray="4 3"><title>{{ label }}</title></line>
{% endfor %}
{% if chart.train %}<polyline class="train-loss" fill="none" stroke="#2563eb" stroke-width="1.5"
 points="{{ chart.train }}"><title>train loss</title></polyline>{% endif %}
{% if chart.eval %}<polyline class="eval-loss" fill="none" stroke="#f59e0b" stroke-width="2"
 points="{{ chart.eval }}"><title>eval loss</title></polyline>{% endif %}
{% for x, y in chart.eval_dots %}<circle cx="{{ x }}" cy="{{ y }}" r="2.5" fill="#f59e0b"/>{% endfor %}
</svg>
<p id="loss-legend"><span class="key" style="border-top: 2px solid #2563eb"></span>train loss
<span class="key" style="border-top: 2px solid #f59e0b"></span>eval loss
{% for x, label, colour in chart.marks %}<span class="key" style="border-top: 2px dashed {{ colour }}"></span>
{{ label }}
{% endfor %}</p>
{% if chart.clipped %}<p class="muted" id="loss-clipped">The first steps' loss (up to {{ chart.clipped }}) is clipped at
the top edge, so the later steps fill the chart.</p>{% endif %}
{% else %}
<p class="muted" id="no-curves">No loss curves: the run has no readable train_log.jsonl rows.</p>
{% endif %}
{{ reward|safe }}

<h2>Metrics per model and slice</h2>
<p>{% for model, colour in colours.items() %}<span style="color: {{ colour }}">■</span> {{ model }}
{% endfor %}</p>
<div class="bars" id="metric-bars">
{% for chart in bars %}
<div class="bar"><div><b>{{ chart.metric }}</b> on <b>{{ chart.slice }}</b>
<span class="muted">({{ chart.better }} is better)</span></div>
<svg xmlns="http://www.w3.org/2000/svg" width="500" height="{{ chart.height }}">
{% for b in chart.bars %}
<text x="0" y="{{ b.y + 11 }}" font-size="11">{{ b.model }}</text>
<rect x="110" y="{{ b.y }}" width="{{ b.width }}" height="14" fill="{{ b.colour }}"><title>{{ b.model }}:
{{ b.value }}</title></rect>
<text x="{{ 114 + b.width }}" y="{{ b.y + 11 }}" font-size="11">{{ b.value }}</text>
{% endfor %}
</svg></div>
{% endfor %}
</div>

<h2>Worst examples</h2>
<p class="muted">Ranked by {{ worst.metric }} on {{ worst.slice }} for the fine-tuned model, failed generations
first{% if worst.baseline %}; beside {{ worst.baseline }}{% endif %}.</p>
{% if not worst.rows %}<p id="no-worst">Every fine-tuned example scored full marks on {{ worst.metric }}.</p>{% endif %}
<table id="worst-examples">
<thead><tr><th>id</th><th>prompt</th><th>reference</th><th>fine-tuned</th><th>{{ worst.baseline or "baseline" }}</th>
</tr></thead>
<tbody>
{% for e in worst.rows %}
<tr><td>{{ e.id }}</td><td><pre>{{ e.prompt }}</pre></td><td><pre>{{ e.reference }}</pre></td>
<td><pre>{{ e.tuned }}</pre><span class="muted">score {{ e.tuned_score }}</span></td>
<td><pre>{{ e.base }}</pre><span class="muted">score {{ e.base_score }}</span></td></tr>
{% endfor %}
</tbody>
</table>
</body>
</html>
"""
