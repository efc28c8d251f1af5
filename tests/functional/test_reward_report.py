"""The reward curve of a grpo run in its reports: `ftspec eval` on a run whose train_log.jsonl is a recorded 12-step
GRPO run (demo model against a trained reward model) puts the curve's summary into report.json, one line into
report.md and the curve into report.html."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ftspec.evals.gates import fmt
from tests.functional.eval_helpers import rows, write_project, write_run
from tests.invoke import invoke

RECORDED = Path(__file__).resolve().parents[1] / "unit" / "runtime" / "recorded" / "grpo_train_log.jsonl"


def test_reports_show_the_reward_curve_of_a_grpo_run(tmp_path):
    spec = write_project(tmp_path, [{"name": "exact_match", "threshold": ">= 0.5"}])
    log = [json.loads(line) for line in RECORDED.read_text().splitlines()]
    run = write_run(tmp_path, rows("finetuned", [("4", "4"), ("5", "5")]), train_log=log)
    invoke(["eval", spec, "--json"])
    rewards = [(r["step"], r["reward"]) for r in log if r["type"] == "reward"]
    curve = json.loads((run / "report.json").read_text())["reward_curve"]
    assert [tuple(p) for p in curve["points"]] == rewards and curve["steps"] == 12
    assert curve["lowest"] == min(r for _, r in rewards) and curve["highest"] == max(r for _, r in rewards)
    line = f"mean reward {fmt(rewards[0][1])} at step 1 → {fmt(rewards[-1][1])} at step 12 (12 logging steps"
    assert f"**Reward curve:** {line}" in (run / "report.md").read_text()
    html = (run / "report.html").read_text()
    assert line in html
    [points] = re.findall(r'<polyline class="reward"[^>]*points="([^"]+)"', html)
    ys = [float(p.split(",")[1]) for p in points.split()]
    assert len(ys) == 12
    highest = max(range(12), key=lambda i: rewards[i][1])
    assert min(ys) == ys[highest]  # SVG y grows downwards: the highest reward is drawn highest


def test_a_run_without_rewards_has_no_reward_curve(tmp_path):
    spec = write_project(tmp_path, [{"name": "exact_match", "threshold": ">= 0.5"}])
    run = write_run(tmp_path, rows("finetuned", [("4", "4")]))
    invoke(["eval", spec, "--json"])
    assert "reward_curve" not in json.loads((run / "report.json").read_text())
    assert "Reward curve" not in (run / "report.md").read_text() + (run / "report.html").read_text()
