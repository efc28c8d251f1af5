"""The decision shows the prompting ladder side by side: one row per rung (measured or declared), one column per
gated metric with its value, CI and pass/fail, in check --json (decision.ladder), decision.md, explain and check."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ftspec.compiler.plan import Decision, LadderGate, LadderRow
from ftspec.compiler.report import _ladder
from tests.conftest import SPECS
from tests.invoke import invoke


def demo_project(tmp_path: Path, model: Path) -> Path:
    project = tmp_path / "demo"
    shutil.copytree(SPECS / "demo", project, ignore=shutil.ignore_patterns("build", "runs", "baselines", "models"))
    spec = project / "project.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("path: models/tiny-llama", f"path: {model}"),
                    encoding="utf-8")
    return spec


def test_declared_tried_scores_are_ladder_rows(tmp_path: Path, demo_model_dir: Path):
    spec = demo_project(tmp_path, demo_model_dir)
    body = json.loads(invoke(["check", spec, "--json"]).stdout)
    ladder = body["decision"]["ladder"]
    assert [(row["rung"], row["source"], row["passed"]) for row in ladder] == [
        ("few_shot_prompting", "declared", False)]
    assert [(g["metric"], g["value"], g["ci"], g["threshold"], g["passed"]) for g in ladder[0]["gates"]] == [
        ("exact_match", 0.0, None, ">= 0.8", False), ("json_valid", 0.0, None, ">= 0.95", False)]

    explained = invoke(["explain", spec]).stdout
    assert "Ladder" in explained and "few shot prompting" in explained and "declared" in explained
    checked = invoke(["check", spec], env={"COLUMNS": "200"}).stdout  # one line a rung
    assert "exact_match >= 0.8" in checked and "0 miss" in checked


def test_measured_rungs_show_value_ci_and_verdict_per_metric():
    gate = {"slice": "all", "threshold": ">= 0.9"}
    decision = Decision(approach="fine_tuning", ladder=[
        LadderRow(rung="zero_shot", label="zero-shot", source="measured", model="m", baseline="20260101-000000-abcd",
                  passed=False, gates=[LadderGate(metric="exact_match", value=0.1, ci=[0.05, 0.2], passed=False,
                                                  **gate)]),
        LadderRow(rung="retrieved_few_shot", label="retrieved few-shot (k=3)", source="measured", model="m",
                  baseline="20260101-000000-abcd", passed=True,
                  gates=[LadderGate(metric="exact_match", value=0.95, ci=[0.91, 0.98], passed=True, **gate),
                         LadderGate(metric="json_valid", slice="adversarial", value=1.0, ci=[1.0, 1.0],
                                    threshold=">= 0.9", passed=True)]),
        LadderRow(rung="prompting", label="prompting", source="declared", passed=False,
                  gates=[LadderGate(metric="exact_match", value=0.4, passed=False, **gate)])])
    lines = _ladder(decision)
    assert lines[3] == "| rung | source | exact_match >= 0.9 | json_valid on adversarial >= 0.9 | verdict |"
    assert lines[5] == ("| zero-shot | measured (m, baselines/20260101-000000-abcd) | 0.1 [0.05, 0.2] miss |  "
                        "| miss |")
    assert lines[6] == ("| retrieved few-shot (k=3) | measured (m, baselines/20260101-000000-abcd) | "
                        "0.95 [0.91, 0.98] pass | 1 [1, 1] pass | pass |")
    assert lines[7] == "| prompting | declared | 0.4 miss |  | miss |"
