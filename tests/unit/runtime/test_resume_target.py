"""Which run `--resume` may continue, and from which checkpoint."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ftspec.errors import UsageError
from ftspec.runtime.resume import last_checkpoint, resume_target

RUN = "20240101-000000-aaaa"


@pytest.mark.parametrize("state", ["failed", "interrupted"])
def test_failed_and_interrupted_runs_resume(tmp_path, write_run, state):
    write_run(tmp_path, RUN, state=state)
    path, status = resume_target(tmp_path, "last", "project.yaml")
    assert path.name == RUN and status.state == state


def test_a_stale_running_run_with_a_dead_pid_is_resumable(tmp_path, write_run, dead_pid):
    write_run(tmp_path, RUN, state="running", pid=dead_pid)
    path, status = resume_target(tmp_path, RUN, "project.yaml")
    assert status.effective_state == "interrupted"
    status.move("running")  # the command then takes it over
    assert status.pid == os.getpid()


def test_a_live_run_is_not_resumed(tmp_path, write_run):
    write_run(tmp_path, RUN, state="running", pid=os.getpid())
    with pytest.raises(UsageError, match="still running"):
        resume_target(tmp_path, "last", "project.yaml")


def test_a_completed_run_is_a_usage_error_with_a_hint(tmp_path, write_run):
    write_run(tmp_path, RUN, state="completed")
    with pytest.raises(UsageError, match="already completed") as info:
        resume_target(tmp_path, "last", "specs/p.yaml")
    assert "ftspec run specs/p.yaml" in info.value.hint and f"--run {RUN}" in info.value.hint


def test_a_run_completed_without_its_eval_resumes_at_the_eval(tmp_path, write_run):
    write_run(tmp_path, RUN, state="completed", stage="eval", eval_skipped=True)
    path, status = resume_target(tmp_path, "last", "p.yaml")
    assert path.name == RUN and status.stage == "eval"
    status.move("running")  # what `--resume` does next
    assert (status.state, status.eval_skipped, status.attempts) == ("running", False, 2)


def test_last_means_the_newest_run(tmp_path, write_run):
    write_run(tmp_path, "20240101-000000-aaaa", state="failed", started=1.0)
    write_run(tmp_path, "20240102-000000-bbbb", state="completed", started=2.0)
    with pytest.raises(UsageError, match="20240102-000000-bbbb already completed"):
        resume_target(tmp_path, "last", "p.yaml")


def test_a_script_left_running_by_a_killed_ftspec_must_be_stopped_first(tmp_path, write_run, dead_pid):
    orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        write_run(tmp_path, RUN, state="running", pid=dead_pid, child_pgid=orphan.pid)
        with pytest.raises(UsageError, match="without its ftspec process") as info:
            resume_target(tmp_path, "last", "p.yaml")
        assert f"kill -- -{orphan.pid}" in info.value.hint
    finally:
        orphan.kill()
        orphan.wait()


def test_last_checkpoint_is_the_highest_step(tmp_path):
    assert last_checkpoint(tmp_path) is None
    for name in ("checkpoint-20", "checkpoint-100", "checkpoint-9", "tmp-checkpoint-200", "checkpoint-x"):
        (tmp_path / "checkpoints" / name).mkdir(parents=True)
    (tmp_path / "checkpoints" / "checkpoint-500").write_text("a file, not a checkpoint")
    assert last_checkpoint(tmp_path).name == "checkpoint-100"
