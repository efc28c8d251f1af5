"""What `ftspec run` prints while train.py writes its log: a plain line every few steps off a terminal, a live
bar on one, and a resumed run that does not replay its earlier attempt."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from ftspec.ui.run import PLAIN_LINES, SPARK, RunView, read_tail, sparkline


def _append(path, rows):
    with open(path, "a", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")


def _rows(first: int, last: int, max_steps: int, resumed_from=None) -> list[dict]:
    rows = [{"type": "start", "time": float(first), "max_steps": max_steps, "resumed_from": resumed_from}]
    rows += [{"type": "train", "step": s, "loss": 10.0 / s, "tokens_per_second": 900.0, "time": float(s)}
             for s in range(first, last + 1)]
    return rows


def _view(mode: str, terminal: bool = False) -> tuple[RunView, io.StringIO]:
    buffer = io.StringIO()
    return RunView(mode, Console(file=buffer, force_terminal=terminal, width=120, color_system=None)), buffer


def test_plain_mode_prints_about_ten_lines_with_loss_speed_and_eta(tmp_path):
    log, max_steps = tmp_path / "train_log.jsonl", 50
    view, buffer = _view("plain")
    view.start_train(log)
    _append(log, _rows(1, max_steps, max_steps) + [{"type": "eval", "step": 50, "eval_loss": 0.5}])
    view.stop()
    lines = [line for line in buffer.getvalue().splitlines() if line.startswith("step ")]
    assert len(lines) == PLAIN_LINES + 1  # every max_steps / 10 steps, then the eval row
    assert lines[0].startswith(f"step {max_steps // PLAIN_LINES}/{max_steps}")
    assert "900 tok/s" in lines[0] and "ETA" in lines[0] and f"loss {10.0 / (max_steps // PLAIN_LINES):.4g}" in lines[0]
    assert lines[-1] == "step 50  eval loss 0.5"


def test_a_resumed_run_shows_only_the_new_attempt(tmp_path):
    log = tmp_path / "train_log.jsonl"
    _append(log, _rows(1, 30, 100))
    view, buffer = _view("plain")
    view.start_train(log)  # catches up on the first attempt silently
    assert view.progress.step == 30 and "step" not in buffer.getvalue()
    _append(log, _rows(21, 100, 100, resumed_from="/runs/x/checkpoints/checkpoint-20"))
    view.stop()
    text = buffer.getvalue()
    assert "resumed from step 20" in text and "step 100/100" in text
    assert view.progress.resumed_from == 20


def test_live_mode_renders_steps_and_stats(tmp_path):
    log = tmp_path / "train_log.jsonl"
    view, buffer = _view("live", terminal=True)
    view.start_train(log)
    _append(log, _rows(1, 7, 40))
    view.tick()
    view.stop()
    assert "7/40" in buffer.getvalue() and "900 tok/s" in buffer.getvalue()


def test_quiet_mode_prints_nothing(tmp_path):
    log = tmp_path / "train_log.jsonl"
    _append(log, _rows(1, 5, 5))
    view, buffer = _view("quiet")
    view.start_train(log)
    view.say("hello")
    view.stop()
    assert buffer.getvalue() == "" and view.progress.step == 5


def test_read_tail_gives_the_last_lines(tmp_path):
    log = tmp_path / "train.log"
    log.write_text("".join(f"line {n}\n" for n in range(100)))
    assert read_tail(log, 3) == ["line 97", "line 98", "line 99"]
    assert read_tail(tmp_path / "absent.log", 3) == []


GRPO_LOG = Path(__file__).parent / "recorded" / "grpo_train_log.jsonl"  # a real 12-step GRPO run on the demo model


def _recorded_rewards() -> list[dict]:
    return [row for row in map(json.loads, GRPO_LOG.read_text().splitlines()) if row["type"] == "reward"]


def test_the_live_view_of_a_grpo_run_shows_its_reward_curve(tmp_path):
    """As the loss for SFT: the last mean reward of the sampled answers, the curve of the recent ones, the KL."""
    log = tmp_path / "train_log.jsonl"
    view, buffer = _view("live", terminal=True)
    view.start_train(log)
    log.write_text(GRPO_LOG.read_text())
    view.tick()
    view.stop()
    rewards = _recorded_rewards()
    last = rewards[-1]
    curve = sparkline(r["reward"] for r in rewards)
    assert len(curve) == len(rewards) and set(curve) <= set(SPARK) and len(set(curve)) > 1
    screen = buffer.getvalue()
    assert f"reward {last['reward']:.4g} {curve} · kl {last['kl']:.3g}" in screen
    assert f"{last['step']}/12" in screen and "loss" in screen


def test_a_plain_grpo_run_prints_reward_lines(tmp_path):
    log = tmp_path / "train_log.jsonl"
    view, buffer = _view("plain")
    view.start_train(log)
    log.write_text(GRPO_LOG.read_text())
    view.stop()
    lines = [line for line in buffer.getvalue().splitlines() if " reward " in line]
    rewards = _recorded_rewards()
    assert len(lines) == len(rewards)  # 12 steps: every step is a tenth of the run or more
    assert lines[-1].startswith(f"step 12/12  reward {rewards[-1]['reward']:.4g} ")
    train_lines = [line for line in buffer.getvalue().splitlines() if " loss " in line]
    assert train_lines and all("reward" not in line for line in train_lines)  # never a step's stale reward


def test_sparkline_scales_from_the_lowest_to_the_highest_value():
    assert sparkline([10, 11, 14, 17]) == SPARK[0] + SPARK[1] + SPARK[4] + SPARK[7]  # 8 levels: one a unit
    assert sparkline([1.0]) == "" and sparkline([0.3, 0.3]) == SPARK[0] * 2
