"""The `reward_model` objective (methods table entry + partial): train.py trains a one-score head with TRL's
RewardTrainer on preference pairs, and the model scores held-out pairs above chance (demo model, a few steps)."""

from __future__ import annotations

import json
import os

import pytest

from ftspec.compiler.render import render_build
from ftspec.review.reward import pairwise_accuracy
from tests.functional.test_scripts import make_paths, make_plan, order_rows, run, train_log, write_jsonl


def _pairs(count: int, offset: int) -> list[dict]:
    """Chosen: the order as JSON; rejected: an answer that is no JSON at all."""
    return [{"prompt": r["prompt"], "chosen": r["completion"], "rejected": "sorry, I cannot help with that"}
            for r in order_rows(count, offset)]


@pytest.mark.slow
def test_a_reward_model_beats_chance_on_held_out_pairs(tmp_path, demo_model_dir):
    train, held_out = _pairs(40, 0), _pairs(16, 2)
    write_jsonl(tmp_path / "data" / "train.jsonl", train)
    write_jsonl(tmp_path / "data" / "eval.jsonl", held_out)
    write_jsonl(tmp_path / "data" / "adversarial.jsonl", held_out[:2])
    build = tmp_path / "build"
    build.mkdir()
    plan = make_plan("reward_model", data_format="preference", kind="template", eval_steps=None)
    plan.hyperparameters.learning_rate = 1e-4
    for name, text in render_build(plan, make_paths(plan, model=os.path.relpath(demo_model_dir, build))).items():
        (build / name).write_text(text)
    run_dir = tmp_path / "run"
    run(build, "train.py", "--output-dir", str(run_dir), "--max-steps", "12")
    log = train_log(run_dir)
    assert log[-1]["status"] == "completed" and log[-1]["global_step"] == 12
    config = json.loads((run_dir / "model" / "config.json").read_text())
    assert config["architectures"][0].endswith("ForSequenceClassification") and len(config["id2label"]) == 1
    scored = pairwise_accuracy(run_dir / "model", held_out)
    assert scored["n"] == 16 and scored["accuracy"] > 0.5, scored
