"""Latency is gated per request and says how it was measured; max_latency_ms is a gate; a slice far below the whole
eval set is shown and warned about in every report, even when every gate passes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tests.functional.eval_helpers import rows, write_project, write_run
from tests.invoke import invoke

RIGHT = [(f"answer {i}", f"answer {i}") for i in range(10)]
ENV = {"NO_COLOR": "1", "GITHUB_STEP_SUMMARY": ""}


def with_limit(spec: Path, max_latency_ms: float) -> Path:
    document = json.loads(spec.read_text())
    document["requirements"] = {"constraints": {"max_latency_ms": max_latency_ms}}
    spec.write_text(json.dumps(document))
    return spec


def timed_rows(latencies: dict[int, float]) -> list[dict]:
    """Rows as the current eval.py writes them: only the sampled rows were timed, one request at a time."""
    found = rows("finetuned", RIGHT)
    for i, row in enumerate(found):
        row.update(latency_ms=latencies.get(i), timed=i in latencies)
    return found


def test_max_latency_is_a_gate_on_the_timed_requests(tmp_path):
    spec = with_limit(write_project(tmp_path, [{"name": "exact_match", "threshold": ">= 0.9"}]), 100)
    run = write_run(tmp_path, timed_rows({1: 40.0, 4: 55.0, 8: 61.0}))
    result = invoke(["eval", str(spec)], env=ENV)
    assert result.exit_code == 0, result.output
    report = json.loads((run / "report.json").read_text())
    latency = report["gates"][1]
    assert (latency["metric"], latency["threshold"], latency["implied_by"]) == \
        ("latency_p95", "<= 100", "requirements.constraints.max_latency_ms")
    assert latency["passed"] and latency["problems"] == []  # the untimed rows are not "missing"
    assert latency["value"] == float(np.percentile([40.0, 55.0, 61.0], 95))  # the timed rows, and only those
    assert latency["method"] == "per request at batch size 1, on a seeded sample of 3 of 10 rows"
    markdown = (run / "report.md").read_text()
    assert "latency_p95 (from max_latency_ms)" in markdown
    assert "measured per request at batch size 1, on a seeded sample of 3 of 10 rows" in markdown
    assert "measured per request at batch size 1" in (run / "junit.xml").read_text()
    assert "measured per request at batch size 1" in (run / "report.html").read_text()
    assert "latency_p95 on all: measured per request at batch size 1" in result.output


def test_a_slow_request_fails_the_implied_gate(tmp_path):
    spec = with_limit(write_project(tmp_path, [{"name": "exact_match", "threshold": ">= 0.9"}]), 100)
    run = write_run(tmp_path, timed_rows({1: 40.0, 4: 55.0, 8: 900.0}))
    assert invoke(["eval", str(spec)], env=ENV).exit_code == 1
    latency = json.loads((run / "report.json").read_text())["gates"][1]
    assert not latency["passed"] and latency["value"] > 100


def test_a_latency_gate_in_the_spec_is_not_doubled(tmp_path):
    spec = with_limit(write_project(tmp_path, [{"name": "latency_p50", "threshold": "<= 0.2 s"}]), 100)
    run = write_run(tmp_path, timed_rows({1: 40.0, 4: 55.0, 8: 61.0}))
    assert invoke(["eval", str(spec)], env=ENV).exit_code == 0
    [gate] = json.loads((run / "report.json").read_text())["gates"]
    assert (gate["metric"], gate["threshold"], gate["implied_by"], gate["value"]) == \
        ("latency_p50", "<= 200 ms", None, 55.0)


def test_predictions_from_an_older_eval_py_say_their_latency_is_batch_time(tmp_path):
    spec = write_project(tmp_path, [{"name": "latency_p95", "threshold": "<= 100"}])
    run = write_run(tmp_path, rows("finetuned", RIGHT))  # no `timed` field: every row has its batch's share
    invoke(["eval", str(spec)], env=ENV)
    [gate] = json.loads((run / "report.json").read_text())["gates"]
    assert gate["method"].startswith("batch wall time divided by the batch size")


def slice_run(tmp_path: Path, adversarial_right: int) -> tuple[Path, object]:
    spec = write_project(tmp_path, [{"name": "exact_match", "threshold": ">= 0.9"}], slices=("adversarial",))
    adversarial = [(ref, ref if i < adversarial_right else "no") for i, (ref, _) in enumerate(RIGHT)]
    run = write_run(tmp_path, rows("finetuned", RIGHT) + rows("finetuned", adversarial, "adversarial"))
    return run, invoke(["eval", str(spec)], env=ENV)


def test_a_weak_slice_is_warned_about_though_every_gate_passes(tmp_path):
    run, result = slice_run(tmp_path, adversarial_right=1)
    assert result.exit_code == 0, result.output
    report = json.loads((run / "report.json").read_text())
    [entry] = report["slices"]
    assert (entry["slice"], entry["metric"], entry["value"], entry["overall"], entry["far_below"], entry["gated"]) \
        == ("adversarial", "exact_match", 0.1, 1.0, True, False)
    warning = "slice `adversarial`: exact_match is 0.1 against 1 on the whole eval set (no gate covers it)"
    assert entry["warning"] == warning
    assert f"⚠ {warning}" in result.output
    assert f"- ⚠️ {warning}" in (run / "report.md").read_text()
    html = (run / "report.html").read_text()
    assert '<table id="slices">' in html and "exact_match is 0.1 against 1" in html
    assert html.index('id="slices"') < html.index("<h2>Loss curves</h2>")  # in the top section


def test_a_slice_close_to_the_whole_set_gets_no_warning(tmp_path):
    run, result = slice_run(tmp_path, adversarial_right=10)
    [entry] = json.loads((run / "report.json").read_text())["slices"]
    assert entry["far_below"] is False and entry["warning"] is None
    assert "⚠" not in result.output
