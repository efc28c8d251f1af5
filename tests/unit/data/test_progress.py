"""Progress of the audit's pass: what the data stage reports, and the bar a terminal shows of it."""

from __future__ import annotations

import io

from rich.console import Console

from ftspec.data.progress import listening
from tests.invoke import invoke
from tests.unit.data.helpers import jsonl, run_audit

ROWS = 2500  # three batches of up to 1,024 rows


def _rows() -> str:
    return jsonl([{"instruction": f"Give fact number {i} about the moon.", "input": "",
                   "output": f"Fact {i}: the moon is about {384000 + i} km away."} for i in range(ROWS)])


def test_the_audit_reports_each_batch_then_the_end_of_each_file(project, tmp_path):
    spec = project("  format: instruction\n  train: train.jsonl\n  eval: eval.jsonl\n",
                   {"train.jsonl": _rows(), "eval.jsonl": jsonl([{"instruction": "Hi?", "output": "Hello."}])})
    events = []
    with listening(events.append):
        run_audit(spec)
    train = [event for event in events if event.file == "train.jsonl"]
    assert [event.rows for event in train] == [1024, 2048, 2500, 2500]
    size = (tmp_path / "train.jsonl").stat().st_size
    assert all(event.total_bytes == size for event in train)
    assert [event.finished for event in train] == [False, False, False, True]
    assert train[-1].done_bytes == size and train[0].done_bytes < train[1].done_bytes < size
    assert [(event.file, event.split, event.finished) for event in events if event.file == "eval.jsonl"] == [
        ("eval.jsonl", "eval", False), ("eval.jsonl", "eval", True)]
    assert events.index(train[0]) > max(i for i, event in enumerate(events) if event.file == "eval.jsonl")


def test_no_listener_no_reports_and_no_bar_off_a_terminal(project):
    spec = project("  format: instruction\n  train: train.jsonl\n", {"train.jsonl": _rows()})
    result = invoke(["data", "audit", str(spec)])
    assert result.exit_code == 0
    assert result.stderr == ""  # the test's stderr is not a terminal


def test_a_terminal_gets_a_bar_per_file_that_goes_when_the_file_is_done(project):
    from ftspec.ui.progress import TerminalProgress, data_progress

    spec = project("  format: instruction\n  train: train.jsonl\n", {"train.jsonl": _rows()})
    screen = io.StringIO()
    progress = TerminalProgress(Console(file=screen, force_terminal=True, width=100), delay=0)
    with listening(progress):
        run_audit(spec)
        assert progress.bar is None  # gone with the file's last report, before the command prints its summary
    shown = screen.getvalue()
    for rows in ("1,024 rows", "2,048 rows", "2,500 rows"):
        assert "audit train train.jsonl" in shown and rows in shown, rows
    quiet = io.StringIO()
    with data_progress(Console(file=quiet, force_terminal=True), delay=60):  # a quick pass shows nothing
        run_audit(spec)
    assert quiet.getvalue() == ""
