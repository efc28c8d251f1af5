"""Overfitting is flagged where the eval loss rises while the train loss falls, and only there."""

from __future__ import annotations

import json
from pathlib import Path

from ftspec.evals.overfit import detect_overfitting
from ftspec.evals.runs import read_train_log
from tests.functional.eval_helpers import overfitting_log


def write_log(run: Path, rows: list[dict]) -> Path:
    run.mkdir(parents=True, exist_ok=True)
    (run / "train_log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return run


def test_rising_eval_loss_under_falling_train_loss_is_flagged_at_the_turn(tmp_path):
    found = detect_overfitting(read_train_log(write_log(tmp_path, overfitting_log(steps=10, turn=5))))
    assert found["detected"]
    assert found["best_step"] == 50  # the eval loss bottoms out at the 5th eval
    assert found["step"] == 60 and found["confirmed_step"] == 70  # two rises in a row confirm it
    assert found["train_loss"] < found["train_loss_at_best"]
    assert found["early_stopped"] is False
    assert "step 60" in found["message"] and "early stopping did not fire" in found["message"]


def test_falling_curves_are_not_overfitting(tmp_path):
    rows = overfitting_log(steps=8, turn=100)
    found = detect_overfitting(read_train_log(write_log(tmp_path, rows)))
    assert not found["detected"] and found["best_step"] == 80
    assert "no sign of overfitting across 8 evaluations" in found["message"]


def test_one_noisy_eval_is_not_overfitting(tmp_path):
    rows = overfitting_log(steps=6, turn=100)
    evals = [r for r in rows if r["type"] == "eval"]
    evals[3]["eval_loss"] = evals[2]["eval_loss"] + 0.05  # a single bump, then falling again
    assert not detect_overfitting(read_train_log(write_log(tmp_path, rows)))["detected"]


def test_eval_rising_with_train_rising_is_not_overfitting(tmp_path):
    rows = overfitting_log(steps=10, turn=5)
    for row in rows:
        if row["type"] == "train":
            row["loss"] = 1.0 + row["step"] / 100  # a diverging run, not an overfitting one
    assert not detect_overfitting(read_train_log(write_log(tmp_path, rows)))["detected"]


def test_early_stopping_is_reported_from_the_end_row(tmp_path):
    rows = overfitting_log(steps=8, turn=5)
    rows[-1].update(early_stopped=True, global_step=80, status="completed")
    found = detect_overfitting(read_train_log(write_log(tmp_path, rows)))
    assert found["detected"] and found["early_stopped"] is True
    assert "early stopping fired (stopped at step 80)" in found["message"]


def test_missing_or_garbled_logs_never_crash(tmp_path):
    assert detect_overfitting(read_train_log(tmp_path))["available"] is False
    run = tmp_path / "garbled"
    run.mkdir()
    rows = overfitting_log(steps=10, turn=5)
    text = "".join(json.dumps(r) + "\n" for r in rows)
    (run / "train_log.jsonl").write_text("{not json\n" + text + '{"type": "eval", "step": 3')
    log = read_train_log(run)
    assert log.skipped == 2
    assert detect_overfitting(log)["detected"]


def test_a_resumed_run_keeps_the_last_value_for_each_step(tmp_path):
    rows = overfitting_log(steps=4, turn=100)
    replay = [dict(r, eval_loss=0.1) for r in rows if r["type"] == "eval" and r["step"] == 40]
    log = read_train_log(write_log(tmp_path, rows + replay))
    assert dict(log.eval)[40] == 0.1 and len(log.eval) == 4
