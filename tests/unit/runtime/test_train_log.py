"""Following train_log.jsonl while it grows: partial lines wait, garbled lines are skipped, progress and ETA."""

from __future__ import annotations

import json

import pytest

from ftspec.runtime.trainlog import LogTail, TrainProgress, read_rows


def _line(row: dict) -> bytes:
    return (json.dumps(row) + "\n").encode()


def test_a_half_written_last_line_waits_for_its_newline(tmp_path):
    path = tmp_path / "train_log.jsonl"
    first, second = {"type": "start", "max_steps": 40}, {"type": "train", "step": 10, "loss": 2.0}
    whole = _line(second)
    path.write_bytes(_line(first) + whole[:15])
    tail = LogTail(path)
    assert tail.read_new() == [first]
    assert tail.read_new() == []
    with open(path, "ab") as handle:
        handle.write(whole[15:])
    assert tail.read_new() == [second]
    assert tail.skipped == 0


def test_garbled_and_blank_lines_are_skipped_and_counted(tmp_path):
    path = tmp_path / "train_log.jsonl"
    row = {"type": "train", "step": 1, "loss": 1.0}
    path.write_bytes(b"{oops\n\n[1, 2]\n" + _line(row) + b'{"no_type": 1}\n')
    tail = LogTail(path)
    assert tail.read_new() == [row]
    assert tail.skipped == 3


def test_a_missing_log_has_no_rows(tmp_path):
    assert read_rows(tmp_path / "absent.jsonl") == []


def test_progress_folds_the_contract_rows():
    rows = [{"type": "start", "time": 0.0, "max_steps": 120, "num_train_rows": 400, "resumed_from": None},
            {"type": "train", "step": 10, "epoch": 0.4, "loss": 1.93, "learning_rate": 2e-4,
             "tokens_per_second": 5120.0, "time": 3.1},
            {"type": "eval", "step": 10, "epoch": 0.4, "eval_loss": 1.71, "time": 3.5},
            {"type": "end", "time": 30.0, "status": "completed", "global_step": 120, "early_stopped": False}]
    progress = TrainProgress.from_rows(rows)
    assert (progress.max_steps, progress.step, progress.loss) == (120, 120, 1.93)
    assert (progress.eval_loss, progress.tokens_per_second, progress.end_status) == (1.71, 5120.0, "completed")
    assert progress.fraction() == 1.0


def test_eta_is_the_steps_left_at_the_recent_pace():
    max_steps, times, steps = 100, [100.0, 102.0, 104.0], [10, 20, 30]
    rows = [{"type": "start", "max_steps": max_steps}]
    rows += [{"type": "train", "step": s, "loss": 1.0, "time": t} for s, t in zip(steps, times, strict=True)]
    progress = TrainProgress.from_rows(rows)
    pace = (steps[-1] - steps[0]) / (times[-1] - times[0])
    assert progress.steps_per_second() == pytest.approx(pace)
    assert progress.eta_seconds() == pytest.approx((max_steps - steps[-1]) / pace)


@pytest.mark.parametrize("rows", [
    [{"type": "start", "max_steps": 100}, {"type": "train", "step": 10, "time": 1.0}],  # one timed row
    [{"type": "train", "step": 10, "time": 1.0}, {"type": "train", "step": 20, "time": 2.0}],  # no max_steps
    [{"type": "start", "max_steps": 100}, {"type": "train", "step": 10, "time": 1.0},
     {"type": "train", "step": 20, "time": 1.0}],  # no time passed
])
def test_no_eta_without_a_pace_or_a_goal(rows):
    assert TrainProgress.from_rows(rows).eta_seconds() is None


def test_a_resume_measures_its_pace_afresh_and_records_where_it_resumed():
    rows = [{"type": "start", "max_steps": 100},
            {"type": "train", "step": 10, "time": 0.0}, {"type": "train", "step": 20, "time": 10.0},
            {"type": "start", "max_steps": 100, "resumed_from": 20},  # an hour later
            {"type": "train", "step": 30, "time": 3610.0}, {"type": "train", "step": 40, "time": 3612.0}]
    progress = TrainProgress.from_rows(rows)
    assert progress.resumed_from == 20
    assert progress.eta_seconds() == pytest.approx((100 - 40) / ((40 - 30) / 2.0))


def test_wrong_types_in_a_row_do_not_crash_or_count():
    progress = TrainProgress.from_rows([{"type": "start", "max_steps": "many"},
                                        {"type": "train", "step": True, "loss": "low", "time": None}])
    assert (progress.max_steps, progress.step, progress.loss, progress.eta_seconds()) == (None, 0, None, None)


def test_resumed_from_reads_a_checkpoint_path_or_a_step():
    path = "/r/checkpoints/checkpoint-40"
    assert TrainProgress.from_rows([{"type": "start", "resumed_from": path}]).resumed_from == 40
    assert TrainProgress.from_rows([{"type": "start", "resumed_from": 15}]).resumed_from == 15
    assert TrainProgress.from_rows([{"type": "start", "resumed_from": None}]).resumed_from is None
