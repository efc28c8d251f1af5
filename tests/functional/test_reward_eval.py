"""`ftspec eval` on a reward-model run, through the real CLI: `ftspec run` trains the reward model and its eval.py
(the methods table's scoring eval, no generation) scores the held-out preference pairs; `ftspec eval` reports
pairwise_accuracy and reward_margin with bootstrap CIs and gates them (exit 1 when a gate fails). Demo model and a
slice of the demo's orders as preference pairs (chosen: the JSON; rejected: it cut short or scrambled)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftspec.fsutil import atomic_write_text
from tests.conftest import DEMO_SPEC, run_cli

ENV = {"OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1"}


def preference_pairs(name: str, count: int) -> list[dict]:
    rows = [json.loads(line) for line in (DEMO_SPEC.parent / "data" / f"{name}.jsonl").read_text().splitlines()]
    pairs = []
    for i, row in enumerate(rows[:count]):
        answer = row["completion"]
        broken = answer[: len(answer) // 2] if i % 2 else " ".join(reversed(answer.split()))
        pairs.append({"prompt": row["prompt"], "chosen": answer, "rejected": broken})
    return pairs


def reward_project(root: Path, model_dir: Path) -> Path:
    (root / "data").mkdir(parents=True)
    for name, count in (("train", 120), ("eval", 24)):
        lines = "".join(json.dumps(pair) + "\n" for pair in preference_pairs(name, count))
        (root / "data" / f"{name}.jsonl").write_text(lines)
    (root / "models").mkdir()
    (root / "models" / "tiny-llama").symlink_to(model_dir.resolve(), target_is_directory=True)
    spec = root / "project.yaml"
    atomic_write_text(spec, """ftspec: 1
name: order-reward
description: A reward model that ranks the complete JSON order above broken answers.
requirements:
  objective: Score answers to shop orders so that the strict JSON payload ranks above broken ones.
  use_cases: [Rank sampled answers for online RL against the reward model]
  needs: [strict_format]
  tried:
    - approach: few_shot_prompting
      scores: {pairwise_accuracy: 0.5}
      notes: the base model has no reward head; an untrained head ranks pairs at chance.
  constraints: {max_latency_ms: 300}  # implies a latency gate for a model that generates; none here
metrics:
  - {name: pairwise_accuracy, threshold: ">= 0.6"}
  - {name: reward_margin, threshold: "> 0"}
data:
  format: preference
  train: data/train.jsonl
  eval: data/eval.jsonl
models:
  - {name: tiny-llama, path: models/tiny-llama, params: 0.98M, license: apache-2.0}
method: reward_model
training:
  learning_rate: 1.0e-4
  epochs: 2
  batch_size: 8
""")
    return spec


def _gates(report: dict) -> dict[str, dict]:
    return {gate["metric"]: gate for gate in report["gates"]}


@pytest.mark.slow
def test_eval_scores_a_reward_model_by_pairwise_accuracy_and_gates_it(tmp_path, demo_model_dir):
    spec = reward_project(tmp_path, demo_model_dir)
    ran = run_cli("run", str(spec), "--json", env=ENV)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    run_dir = Path(json.loads(ran.stdout)["run_dir"])
    rows = [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == 24 and {r["model"] for r in rows} == {"finetuned"}  # scored pairs, no baselines
    assert all(isinstance(r["chosen_score"], float) and isinstance(r["rejected_score"], float) for r in rows)

    scored = run_cli("eval", str(spec), "--json", env=ENV)
    assert scored.returncode == 0, scored.stdout[-3000:] + scored.stderr[-3000:]
    gates = _gates(json.loads(scored.stdout))
    assert set(gates) == {"pairwise_accuracy", "reward_margin"}
    wins = [1.0 if r["chosen_score"] > r["rejected_score"] else 0.5 if r["chosen_score"] == r["rejected_score"]
            else 0.0 for r in rows]
    margins = [r["chosen_score"] - r["rejected_score"] for r in rows]
    accuracy, margin = gates["pairwise_accuracy"], gates["reward_margin"]
    assert accuracy["value"] == pytest.approx(sum(wins) / len(wins)) and accuracy["value"] >= 0.6
    assert margin["value"] == pytest.approx(sum(margins) / len(margins)) and margin["value"] > 0
    for gate in (accuracy, margin):
        assert gate["passed"] and gate["n"] == 24 and gate["ci"][0] <= gate["value"] <= gate["ci"][1]
    assert f"mean margin (chosen - rejected) {margin['value']:.4g}" in accuracy["method"]
    report_md = (run_dir / "report.md").read_text()
    assert "pairwise_accuracy" in report_md and "reward_margin" in report_md
    print("reward model:", {k: (g["value"], g["ci"]) for k, g in gates.items()})

    # a bar above what the model reached fails the gate: exit 1, and the report says why
    bar = f'threshold: ">= {margin["ci"][1] + 1:.3f}"'
    atomic_write_text(spec, spec.read_text().replace('threshold: "> 0"', bar))
    failed = run_cli("eval", str(spec), "--run", run_dir.name, env=ENV)
    assert failed.returncode == 1, failed.stdout[-3000:] + failed.stderr[-3000:]
    assert "reward_margin" in failed.stdout and "gate failed (exit 1)" in failed.stdout
