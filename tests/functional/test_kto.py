"""`method: kto` (one methods-table entry and its partial) really trains: the generated train.py runs TRL's
KTOTrainer on preference pairs (unpaired by TRL into desirable and undesirable answers) for a few steps on the demo
model and saves the model; eval.py is the generating one, as for DPO."""

from __future__ import annotations

import pytest

from tests.functional.test_reward_model import _build
from tests.functional.test_scripts import run, train_log


@pytest.mark.slow
def test_kto_trains_on_preference_pairs(tmp_path, demo_model_dir):
    build = _build(tmp_path, demo_model_dir, "kto", learning_rate=5e-5, kto_beta=0.1)
    assert "KTOTrainer(" in (build / "train.py").read_text()
    run(build, "train.py", "--output-dir", str(tmp_path / "run"), "--max-steps", "3")
    log = train_log(tmp_path / "run")
    assert log[0]["num_train_rows"] + log[0]["num_dev_rows"] == 40  # pairs; TRL unpairs them in the trainer
    assert log[-1]["status"] == "completed" and log[-1]["global_step"] == 3
    assert [r["step"] for r in log if r["type"] == "train"] == [1, 2, 3]
    assert (tmp_path / "run" / "model" / "config.json").is_file()
