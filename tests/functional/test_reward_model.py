"""Learning from preferences beyond DPO, through the methods table (entry + partial each) and the generated
train.py: the `reward_model` objective trains a one-score head with TRL's RewardTrainer and scores held-out pairs
above chance; the `grpo` objective runs TRL's GRPOTrainer against that reward model and logs its reward curve.
Demo model, a few steps each, one reward model for the module."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ftspec.compiler.render import ScriptPaths, render_build
from ftspec.review.reward import pairwise_accuracy
from tests.functional.test_scripts import make_paths, make_plan, order_rows, run, train_log, write_jsonl


def _pairs(count: int, offset: int) -> list[dict]:
    """Chosen: the order as JSON; rejected: the kind of broken answer a small model samples (cut short, or with
    its words scrambled), so the reward model learns what the policy can improve on."""
    rows = []
    for i, r in enumerate(order_rows(count, offset)):
        answer = r["completion"]
        broken = answer[: len(answer) // 2] if i % 2 else " ".join(reversed(answer.split()))
        rows.append({"prompt": r["prompt"], "chosen": answer, "rejected": broken})
    return rows


def _build(root: Path, model_dir: Path, method: str, reward_model: Path | None = None, **hp) -> Path:
    write_jsonl(root / "data" / "train.jsonl", _pairs(40, 0))
    write_jsonl(root / "data" / "eval.jsonl", _pairs(16, 2))
    write_jsonl(root / "data" / "adversarial.jsonl", _pairs(2, 3))
    build = root / "build"
    build.mkdir()
    plan = make_plan(method, data_format="preference", kind="template", eval_steps=None)
    for key, value in hp.items():
        setattr(plan.hyperparameters, key, value)
    paths = make_paths(plan, model=os.path.relpath(model_dir, build))
    if reward_model is not None:
        paths = ScriptPaths(**{**paths.__dict__, "reward_model": os.path.relpath(reward_model, build)})
    for name, text in render_build(plan, paths).items():
        (build / name).write_text(text)
    return build


@pytest.fixture(scope="module")
def reward_model(tmp_path_factory, demo_model_dir) -> Path:
    root = tmp_path_factory.mktemp("reward")
    build = _build(root, demo_model_dir, "reward_model", learning_rate=1e-4)
    run(build, "train.py", "--output-dir", str(root / "run"), "--max-steps", "20")
    log = train_log(root / "run")
    assert log[-1]["status"] == "completed" and log[-1]["global_step"] == 20
    return root / "run" / "model"


@pytest.mark.slow
def test_a_reward_model_beats_chance_on_held_out_pairs(reward_model):
    config = json.loads((reward_model / "config.json").read_text())
    assert config["architectures"][0].endswith("ForSequenceClassification") and len(config["id2label"]) == 1
    scored = pairwise_accuracy(reward_model, _pairs(16, 2))
    assert scored["n"] == 16 and scored["accuracy"] > 0.5, scored


@pytest.mark.slow
def test_grpo_against_the_reward_model_logs_a_rising_reward(tmp_path, demo_model_dir, reward_model):
    build = _build(tmp_path, demo_model_dir, "grpo", reward_model, learning_rate=5e-4, grpo_beta=0.04,
                   num_generations=4)
    run(build, "train.py", "--output-dir", str(tmp_path / "run"), "--max-steps", "16")
    log = train_log(tmp_path / "run")
    rewards = [r["reward"] for r in log if r["type"] == "reward"]
    assert log[-1]["status"] == "completed" and len(rewards) == 16
    print("GRPO mean reward per step:", [round(r, 3) for r in rewards])
    half = len(rewards) // 2
    assert sum(rewards[half:]) / half > sum(rewards[:half]) / half  # the reward curve rises
