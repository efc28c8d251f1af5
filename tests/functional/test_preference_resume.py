"""Resume for the preference objectives (issue 17): a reward_model run and a grpo run stopped after their second
step continue from their last complete checkpoint (train.py --resume, what `ftspec run --resume` launches) and
finish the steps left, on the demo model, a few steps each."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.functional.test_reward_model import _build
from tests.functional.test_scripts import run, train_log


def _stop_then_resume(build: Path, run_dir: Path) -> list[dict]:
    run(build, "train.py", "--output-dir", str(run_dir), "--max-steps", "2")  # stopped: a checkpoint a step
    (run_dir / "checkpoints" / "checkpoint-2" / "trainer_state.json").unlink()  # as if killed while saving
    run(build, "train.py", "--output-dir", str(run_dir), "--max-steps", "3", "--resume")
    return train_log(run_dir)


@pytest.mark.slow
def test_reward_model_and_grpo_runs_resume_from_their_last_checkpoint(tmp_path, demo_model_dir):
    reward_build = _build(tmp_path / "reward", demo_model_dir, "reward_model", learning_rate=1e-4, eval_steps=1)
    reward_run = tmp_path / "reward" / "run"
    log = _stop_then_resume(reward_build, reward_run)
    starts = [r for r in log if r["type"] == "start"]
    assert [s["resumed_from"] for s in starts] == [None, str(reward_run / "checkpoints" / "checkpoint-1")]
    assert log[-1]["status"] == "completed" and log[-1]["global_step"] == 3
    assert [r["step"] for r in log if r["type"] == "train"][-2:] == [2, 3]  # step 2 again, from checkpoint 1
    assert (reward_run / "model" / "config.json").is_file()

    grpo_build = _build(tmp_path / "grpo", demo_model_dir, "grpo", reward_run / "model", learning_rate=5e-4,
                        grpo_beta=0.04, num_generations=4, eval_steps=1)
    grpo_run = tmp_path / "grpo" / "run"
    log = _stop_then_resume(grpo_build, grpo_run)
    starts = [r for r in log if r["type"] == "start"]
    assert [s["resumed_from"] for s in starts] == [None, str(grpo_run / "checkpoints" / "checkpoint-1")]
    assert log[-1]["status"] == "completed" and log[-1]["global_step"] == 3
    assert [r["step"] for r in log if r["type"] == "reward"] == [1, 2, 2, 3]  # the reward curve continues
