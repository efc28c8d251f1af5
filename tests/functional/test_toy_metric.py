"""A new kind of metric is one declaration: registered in a test, it is accepted and checked by the spec, scored,
gated, bootstrapped and reported in report.json, report.md, junit.xml and report.html (drawn as bars)."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

import pytest

from ftspec.evals.metrics import row_mean
from ftspec.metrics import Metric, register, unregister
from ftspec.spec.load import load_spec
from tests.functional.eval_helpers import rows, write_project, write_run
from tests.invoke import invoke

PAIRS = [("four", "4"), ("seven", "seven words here"), ("two", "2"), ("nine", "9!")]


@pytest.fixture
def toy_metric():
    """Answer length in characters, lower is better: a declaration and nothing else."""
    metric = register(Metric("answer_chars", "characters in the answer", False,
                             row_mean(lambda row: float(len(row["prediction"]))), low=0.0, unit="chars",
                             fields=("prediction",)))
    yield metric
    unregister(metric.name)


def test_a_toy_metric_is_gated_and_reported_everywhere(toy_metric, tmp_path):
    spec = write_project(tmp_path, [{"name": "answer_chars", "threshold": "<= 3"}])
    run = write_run(tmp_path, rows("finetuned", PAIRS) + rows("base_zero_shot", [(r, r * 3) for r, _ in PAIRS]))
    assert [m.name for m in load_spec(spec).spec.metrics] == ["answer_chars"]  # the spec accepts it
    result = invoke(["eval", str(spec)], env={"NO_COLOR": "1", "GITHUB_STEP_SUMMARY": ""})
    assert result.exit_code == 1, result.output  # mean length 5 > 3
    report = json.loads((run / "report.json").read_text())
    [gate] = report["gates"]
    assert (gate["label"], gate["value"], gate["higher_is_better"], gate["unit"]) == ("answer_chars", 5.0, False,
                                                                                      "chars")
    assert gate["value_ci"][0] <= 5.0 <= gate["value_ci"][1] and not gate["passed"]
    assert gate["wrong"] is None  # a per-row score on its own scale has no "wrong answers"
    assert "answer_chars: 5 is not <= 3" in gate["reason"]
    assert report["models"]["base_zero_shot"]["all"]["answer_chars"] == pytest.approx(12.0)
    assert "| ❌ | answer_chars | all | 5 chars |" in (run / "report.md").read_text()
    suite = ET.parse(run / "junit.xml").getroot()
    assert [case.get("name") for case in suite.iter("testcase")] == ["answer_chars [all] <= 3"]
    html = (run / "report.html").read_text()
    assert "<b>answer_chars</b> on <b>all</b>" in html and "(lower is better)" in html and "5 chars" in html


def test_a_toy_metric_threshold_is_held_to_its_declaration(toy_metric, tmp_path):
    spec = write_project(tmp_path, [{"name": "answer_chars", "threshold": ">= 3"}])
    result = invoke(["check", str(spec)])
    assert result.exit_code == 2
    assert "`answer_chars` is lower-is-better, so `>= 3` gates in the wrong direction" in result.output


def test_an_unregistered_metric_is_unknown_again(tmp_path):
    spec = write_project(tmp_path, [{"name": "answer_chars", "threshold": "<= 3"}])
    result = invoke(["check", str(spec)])
    assert result.exit_code == 2 and "unknown metric `answer_chars`" in result.output
