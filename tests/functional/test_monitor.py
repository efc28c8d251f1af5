"""`ftspec monitor` through the CLI on generated production logs with drift planted on purpose, against the demo
spec's training data (specs/demo)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ftspec.monitor.traffic import Plan, write_traffic
from tests.conftest import DEMO_SPEC
from tests.invoke import invoke

DEMO = Path(__file__).resolve().parents[2] / "specs" / "demo"
WEEK3 = 14  # day 14 of a stream starting on a Monday opens its third weekly window


@pytest.fixture
def project(tmp_path):
    shutil.copytree(DEMO / "data", tmp_path / "data")
    (tmp_path / "models" / "tiny-llama").mkdir(parents=True)  # the spec names it; monitoring never loads it
    text = (DEMO / "project.yaml").read_text(encoding="utf-8")
    text += "\nmonitoring:\n  logs: logs.jsonl\n  fields: {feedback: feedback}\n"
    (tmp_path / "project.yaml").write_text(text, encoding="utf-8")
    return tmp_path / "project.yaml"


def monitor(spec: Path, plan: Plan | None = None, *args: str):
    if plan is not None:
        write_traffic(spec.parent / "logs.jsonl", plan)
    result = invoke(["monitor", str(spec), "--json", *args])
    return result, json.loads(result.stdout)


def test_a_stable_stream_is_ok_in_every_window(project):
    result, report = monitor(project, Plan())
    assert result.exit_code == 0, result.output
    assert [w["verdict"] for w in report["windows"]] == ["ok"] * 6
    assert report["verdict"] == "ok" and report["plan"] is None and report["reasons"] == []
    assert all(w["judged"] and w["drift"]["novelty"] < 0.2 for w in report["windows"])
    assert report["training"]["source"] == "data.train" and report["training"]["rows"] == 400
    folder = Path(report["files"]["folder"])
    assert folder.parent == project.parent / "monitor"
    assert sorted(p.name for p in folder.iterdir()) == ["report.html", "report.json"]


def test_a_new_topic_from_week_3_is_found_clustered_and_sampled(project):
    result, report = monitor(project, Plan(topic_from=WEEK3))
    assert result.exit_code == 1, result.output
    verdicts = [w["verdict"] for w in report["windows"]]
    assert verdicts[:2] == ["ok", "ok"] and verdicts[2:] == ["refine_tune"] * 4
    week3 = report["windows"][2]
    assert week3["drift"]["novelty"] > 0.35
    assert {r["check"] for r in week3["reasons"]} >= {"novelty", "oov"}
    assert any(t["term"] in ("refund", "return") for t in week3["drift"]["grew"])
    new = [c for c in week3["clusters"] if c["new"]]
    assert new and all("refund" in e["prompt"] or "back" in e["prompt"] or "return" in e["prompt"]
                       for c in new for e in c["examples"])
    assert report["verdict"] == "refine_tune"
    novelty = next(r for r in report["reasons"] if r["check"] == "novelty")
    assert novelty["spec_path"] == "monitoring.refine_tune.novelty" and novelty["location"] == "default"
    labels = [w["label"] for w in report["windows"]]
    assert novelty["windows"] == labels[-2:]  # the overall verdict: the latest monitoring.recent_windows
    plan = report["plan"]
    assert plan["degraded_windows"] == labels[2:] and plan["sample_rows"] > 0
    sample = [json.loads(line) for line in Path(report["files"]["refine_sample.jsonl"]).read_text().splitlines()]
    assert len(sample) == plan["sample_rows"] and len({row["prompt"] for row in sample}) == len(sample)
    assert all(row["completion"] == "" for row in sample)  # the spec's format, the answer left to a labeller
    logs = (project.parent / "logs.jsonl").read_text().splitlines()
    topics = [json.loads(logs[int(row["_monitor"]["source"].rsplit(":", 1)[1]) - 1])["topic"] for row in sample]
    assert topics.count("returns") > 0.8 * len(sample)  # the new topic's rows, each traced to its log line
    assert report["cadence"]["suggested"] == "monthly"


def test_outputs_that_break_the_json_format_fail_output_health(project):
    result, report = monitor(project, Plan(broken_from=WEEK3))
    assert result.exit_code == 1
    before, after = report["windows"][1], report["windows"][2]
    assert before["output_failure"] == 0 and before["metrics"]["json_valid"]["value"] == 1
    assert after["output_failure"] > 0.2
    json_valid = after["metrics"]["json_valid"]
    assert json_valid["value"] == pytest.approx(1 - after["output_failure"])
    checks = {(r["check"], r["spec_path"]) for r in after["reasons"]}
    assert ("gate", "metrics[1]") in checks and ("output_failure", "monitoring.refine_tune.output_failure") in checks
    gate = next(r for r in after["reasons"] if r["check"] == "gate")
    line = next(n for n, text in enumerate((DEMO_SPEC.parent / "project.yaml").read_text().splitlines(), 1)
                if "{name: json_valid, threshold" in text)  # metrics[1], where the spec writes it
    assert gate["location"].endswith(f"project.yaml:{line}:5") and gate["threshold"] == ">= 0.95"


def test_a_drop_in_feedback_is_detected_with_its_ci(project):
    result, report = monitor(project, Plan(drop_from=WEEK3, thumbs_up=0.9, thumbs_up_after=0.6))
    assert result.exit_code == 1
    first, later = report["windows"][0]["metrics"]["feedback"], report["windows"][3]["metrics"]["feedback"]
    assert later["ci"][0] < later["value"] < later["ci"][1] < first["value"]
    drops = [r for r in report["windows"][3]["reasons"] if r["check"] == "quality_drop"]
    assert [r["subject"] for r in drops] == ["feedback"]
    assert drops[0]["value"] == pytest.approx(first["value"] - later["value"])
    assert f"CI [{later['ci'][0]:.3g}, {later['ci'][1]:.3g}]" in drops[0]["text"]
    assert [w["verdict"] for w in report["windows"][:2]] == ["ok", "ok"]


def test_bad_rows_are_reported_with_their_line_and_too_many_are_bad_input(project):
    logs = project.parent / "logs.jsonl"
    write_traffic(logs, Plan(days=7))
    with logs.open("a", encoding="utf-8") as handle:
        handle.write('{"timestamp": "2026-01-06T10:00:00Z", "output": "{}"}\nnot json\n')
    result, report = monitor(project)
    total = 7 * 60
    assert result.exit_code == 0
    assert report["rows"] == {"read": total + 2, "used": total, "bad": 2}
    assert [(b["file"], b["line"]) for b in report["bad_rows"]] == [("logs.jsonl", total + 1), ("logs.jsonl",
                                                                                                total + 2)]
    text = invoke(["monitor", str(project)])
    assert f"logs.jsonl:{total + 1}: missing `prompt`" in text.output
    with logs.open("a", encoding="utf-8") as handle:
        handle.write("[]\n" * 40)
    result, report = monitor(project)
    assert result.exit_code == 2 and "more than monitoring.max_bad_rows" in report["problems"][0]


def test_no_logs_is_bad_input_and_results_are_never_overwritten(project, tmp_path):
    project.write_text(project.read_text().replace("  logs: logs.jsonl\n", ""), encoding="utf-8")
    result = invoke(["monitor", str(project)])
    assert result.exit_code == 2 and "pass --logs PATH" in result.output
    logs = tmp_path / "elsewhere.jsonl"
    write_traffic(logs, Plan(days=3))
    first = json.loads(invoke(["monitor", str(project), "--logs", str(logs), "--json"]).stdout)
    second = json.loads(invoke(["monitor", str(project), "--logs", str(logs), "--json"]).stdout)
    assert first["files"]["folder"] != second["files"]["folder"]
    assert Path(first["files"]["report.json"]).is_file() and Path(second["files"]["report.json"]).is_file()
    assert [w["judged"] for w in first["windows"]] == [True]  # 3 days: one weekly window


def test_explain_evidence_reads_the_latest_report(project):
    from ftspec.compiler.approach import monitoring_reasons
    from ftspec.monitor.findings import monitor_findings
    from ftspec.spec.load import load_spec

    assert monitor_findings(project) is None and monitoring_reasons(load_spec(project)) == []
    monitor(project, Plan(topic_from=WEEK3))
    found = monitor_findings(project)
    assert found.retrain_due and found.cadence == "monthly"
    reasons = monitoring_reasons(load_spec(project))
    assert "advises re-fine-tuning" in reasons[0].text and "cadence: monthly" in reasons[0].text
    novelty = next(r for r in reasons[1:] if r.spec_path == "monitoring.refine_tune.novelty")
    assert "novel prompts" in novelty.text and novelty.location is None  # the default threshold: not in the spec
