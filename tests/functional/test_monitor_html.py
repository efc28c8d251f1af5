"""The monitor's HTML page, rendered by headless Chromium: the reasons, the curves over the windows, the clusters;
self-contained, and a prompt from the logs is text, never markup."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ftspec.monitor.traffic import Plan, rows
from tests.functional.test_eval_html import Elements, render
from tests.functional.test_monitor import WEEK3, project  # noqa: F401 - the fixture
from tests.invoke import invoke

HOSTILE = '<script>document.title="pwned"</script><img src=x onerror=alert(1)> refund my order'


def test_monitor_page_renders_in_headless_chromium(project, tmp_path):  # noqa: F811
    logs = [json.dumps(row) for row in rows(Plan(topic_from=WEEK3))]
    logs += [json.dumps({"timestamp": "2026-02-16T10:00:00Z", "prompt": HOSTILE + f" #{i}", "output": "{}"})
             for i in range(4)]
    (project.parent / "logs.jsonl").write_text("\n".join(logs) + "\n", encoding="utf-8")
    result = invoke(["monitor", str(project), "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    page_path = Path(report["files"]["report.html"])
    dom, log = render(page_path, tmp_path / "profile")
    page = Elements()
    page.feed(dom)
    windows = len(report["windows"])
    for chart in ("drift", "psi", "quality-json_valid", "quality-feedback"):
        assert page.find("svg", id=chart), chart
    novelty_curve = [a for t, a in page.tags if t == "polyline"][0]  # the first series: novel prompts
    assert len(novelty_curve["points"].split()) == windows
    assert page.find("table", id="reasons") and page.find("table", id="windows") and page.find("table", id="clusters")
    assert "monitoring.refine_tune.novelty" in dom
    assert HOSTILE.replace("<", "&lt;").replace(">", "&gt;") in dom  # a cluster's example, shown as text
    assert not page.find("script") and not page.find("img")
    assert [line for line in log.splitlines() if ":CONSOLE" in line] == []
    html = page_path.read_text(encoding="utf-8")
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) <= {"http://www.w3.org/2000/svg"}
    assert not re.search(r"url\(|@import|<link|src=", html.replace("src=x", ""), re.IGNORECASE)
