"""report.html opened in headless Chromium: the gates table, the SVG loss curves, the bars and the worst examples
render, nothing is fetched from the network, and the console stays clean."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.functional.eval_helpers import overfitting_log, rows, write_project, write_run
from tests.invoke import invoke

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ORDERS = [(f'{{"item": "mug", "qty": {i}}}', f'{{"item": "mug", "qty": {i}}}') for i in range(1, 13)]
HOSTILE = '<script>document.title="pwned"</script><img src=x onerror=alert(1)>'


class Elements(HTMLParser):
    """Every start tag with its attributes, in document order."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def find(self, tag: str, **attrs) -> list[dict]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def render(page: Path, profile: Path) -> tuple[str, str]:
    if not Path(CHROMIUM).exists():
        # `make test` installs it; in CI a missing browser is a failure, never a silent skip.
        assert not os.environ.get("CI"), "chromium is missing in CI: `make browser` should have installed it"
        pytest.skip("chromium is not installed (make browser)")
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
               "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, done.stderr


@pytest.fixture
def report_page(tmp_path) -> Path:
    spec = write_project(tmp_path, [{"name": "exact_match", "threshold": ">= 0.9"},
                                    {"name": "exact_match", "vs_baseline": "base_few_shot", "threshold": ">= 0.1"},
                                    {"name": "json_valid", "slice": "adversarial", "threshold": ">= 0.9"}],
                         slices=("adversarial",))
    tuned = rows("finetuned", ORDERS[:9] + [(ref, "{}") for ref, _ in ORDERS[9:]])
    tuned[10].update(prediction=HOSTILE)
    tuned[11].update(prediction=None, error="CUDA out of memory")
    base = rows("base_few_shot", [(ref, "no idea") for ref, _ in ORDERS])
    adversarial = rows("finetuned", ORDERS, "adversarial")
    run = write_run(tmp_path, tuned + base + adversarial, train_log=overfitting_log())
    result = invoke(["eval", str(spec)], env={"NO_COLOR": "1", "GITHUB_STEP_SUMMARY": ""})
    assert result.exit_code == 1, result.output
    return run / "report.html"


def test_report_renders_in_headless_chromium(report_page, tmp_path):
    dom, log = render(report_page, tmp_path / "profile")
    page = Elements()
    page.feed(dom)
    # the gates table: one row per gate; the failed generation fails both gates on the eval set
    assert page.find("table", id="gates")
    gate_rows = [a for t, a in page.tags if t == "tr" and a.get("class") in ("passed", "failed")]
    assert [a["class"] for a in gate_rows] == ["failed", "failed", "passed"]
    assert "1 of 12 `finetuned` generations failed (first error: CUDA out of memory)" in dom
    # the loss curves: inline SVG with both series and the overfitting marker
    assert page.find("svg", id="loss-curves")
    train, evals = page.find("polyline", **{"class": "train-loss"}), page.find("polyline", **{"class": "eval-loss"})
    assert len(train) == 1 and len(evals) == 1
    assert len(evals[0]["points"].split()) == 10  # one point per logged evaluation
    assert "overfitting from step 60" in dom
    # the metric bars: a chart per (slice, metric) with a bar per model
    assert page.find("div", id="metric-bars")
    assert len(page.find("rect", height="14")) == 2 * 2 * 2  # 2 slices x 2 metrics x 2 models
    # the worst examples, side by side with the baseline; a failed generation first
    assert page.find("table", id="worst-examples")
    assert "[generation failed: CUDA out of memory]" in dom and "no idea" in dom
    # model output is text, never markup: no script ran, no image was injected
    assert HOSTILE.replace("<", "&lt;").replace(">", "&gt;") in dom
    assert not page.find("script") and not page.find("img")
    consoles = [line for line in log.splitlines() if ":CONSOLE" in line]
    assert consoles == []


def test_report_is_self_contained(report_page):
    html = report_page.read_text()
    page = Elements()
    page.feed(html)
    assert not [(tag, attrs) for tag, attrs in page.tags if {"src", "href", "srcset"} & set(attrs)]
    assert not page.find("link") and not page.find("script") and not page.find("iframe")
    assert not re.search(r"url\(|@import", html, re.IGNORECASE)
    # the only URL is the SVG namespace, which is a name, not a fetch
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) <= {"http://www.w3.org/2000/svg"}


# Measures the page as laid out at 1,280 px and writes the figures into the DOM for --dump-dom to carry out. It runs
# in a copy of the page: the report itself holds no script.
MEASURE = """<script>
const box = (el) => el.getBoundingClientRect();
const reasons = [...document.querySelectorAll("#gates td.reason")].map((td) => box(td).width);
document.body.setAttribute("data-layout", JSON.stringify({
  viewport: window.innerWidth, page: document.documentElement.scrollWidth,
  gates: box(document.getElementById("gates")).right, curves: box(document.getElementById("loss-curves")).right,
  narrowest_reason: reasons.length ? Math.min(...reasons) : null}));
</script>"""


def layout_at_1280(page: Path, tmp_path: Path) -> dict:
    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text().replace("</body>", MEASURE + "</body>"))
    if not Path(CHROMIUM).exists():
        assert not os.environ.get("CI"), "chromium is missing in CI: `make browser` should have installed it"
        pytest.skip("chromium is not installed (make browser)")
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--window-size=1280,900",
               f"--user-data-dir={tmp_path / 'profile-layout'}", "--dump-dom", probe.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    match = re.search(r'data-layout="([^"]+)"', done.stdout)
    assert match, done.stdout[-2000:]
    return json.loads(match.group(1).replace("&quot;", '"'))


def test_the_gates_and_the_curves_fit_a_1280_px_window(report_page, tmp_path):
    layout = layout_at_1280(report_page, tmp_path)
    assert layout["page"] <= layout["viewport"]  # nothing scrolls sideways
    assert layout["gates"] <= layout["viewport"] and layout["curves"] <= layout["viewport"]
    # a failed gate's reason has a row of its own and reads as a line, not as a column of words
    assert layout["narrowest_reason"] is not None and layout["narrowest_reason"] >= 600


def test_the_loss_chart_has_a_legend_and_keeps_the_late_steps_readable(report_page):
    html = report_page.read_text()
    legend = html[html.index('id="loss-legend"'):]
    legend = legend[:legend.index("</p>")]
    assert "train loss" in legend and "eval loss" in legend
    assert "best eval loss (step 50)" in legend and "overfitting starts (step 60)" in legend
    assert 'stroke-dasharray="4 3"' in html and "border-top: 2px dashed" in legend  # the marks and their keys


def test_a_steep_start_is_clipped_so_the_best_step_is_not_squashed():
    from ftspec.evals.html import loss_chart
    from ftspec.evals.runs import TrainLog

    train = [(s, 10.0 * 0.5 ** (s / 10) + 0.5) for s in range(10, 410, 10)]  # 10.5 at first, 0.5 at the end
    evals = [(s, 0.8 + 0.002 * abs(s - 250) / 10) for s in range(20, 420, 20)]
    log = TrainLog(found=True, train=train, eval=evals, end=None, skipped=0)
    chart = loss_chart(log, {"best_step": 240, "detected": False})
    assert chart["clipped"] == f"{max(v for _, v in train):.3g}"
    heights = [y for _, y in chart["eval_dots"]]
    usable = chart["h"] - 2 * chart["pad"]
    assert max(heights) - min(heights) > 0.05 * usable  # the eval curve's shape shows
    first = float(chart["train"].split()[0].split(",")[1])
    assert first == chart["pad"]  # the steep start sits on the top edge
