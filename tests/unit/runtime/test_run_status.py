"""status.json: the allowed transitions, the round trip, and how a `running` status whose owner died reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from ftspec.runtime.status import RunStatus, TransitionError, group_alive, read_status, write_status

STATES = ("running", "completed", "failed", "interrupted")
ALLOWED = {("running", "completed"), ("running", "failed"), ("running", "interrupted"),
           ("failed", "running"), ("interrupted", "running")}


@pytest.mark.parametrize("before, after", [(a, b) for a in STATES for b in STATES])
def test_transitions(before, after):
    status = RunStatus(id="r", state=before)
    status.claim()  # a live owner: a `running` run is really running
    if (before, after) in ALLOWED:
        status.move(after, 0)
        assert status.state == after
    else:
        with pytest.raises(TransitionError):
            status.move(after, 0)
        assert status.state == before


def test_only_a_run_that_skipped_its_eval_may_run_again_once_completed():
    finished = RunStatus(id="r", state="completed", eval_skipped=True)
    finished.move("running")
    assert finished.state == "running" and not finished.eval_skipped
    with pytest.raises(TransitionError):
        RunStatus(id="r", state="completed").move("running")


def test_a_running_run_whose_owner_died_may_be_taken_over(dead_pid):
    status = RunStatus(id="r", pid=dead_pid)
    status.move("running")
    assert status.pid == os.getpid() and status.attempts == 2


def test_finishing_records_the_end_and_resuming_clears_it():
    status = RunStatus(id="r")
    status.claim()
    status.child_pgid = 4242
    before = time.time()
    status.move("failed", 3)
    assert status.returncode == 3 and status.ended >= before and status.child_pgid is None
    status.move("running")
    assert (status.ended, status.returncode, status.attempts) == (None, None, 2)
    assert status.pid == os.getpid()


def test_round_trip_keeps_every_field(tmp_path):
    status = RunStatus(id="r", state="interrupted", started=12.5, ended=20.0, returncode=130, stage="eval")
    write_status(tmp_path, status)
    assert read_status(tmp_path) == status
    assert json.loads((tmp_path / "status.json").read_text())["state"] == "interrupted"


@pytest.mark.parametrize("text", ["", "{not json", "[]", '{"state": "running"}', '{"id": "r", "state": "odd"}'])
def test_unreadable_status_is_none(tmp_path, text):
    (tmp_path / "status.json").write_text(text)
    assert read_status(tmp_path) is None


def test_unknown_keys_from_a_newer_ftspec_are_ignored(tmp_path):
    (tmp_path / "status.json").write_text(json.dumps({"id": "r", "state": "failed", "started": 1.0, "gpu": "x"}))
    assert read_status(tmp_path).state == "failed"


def test_running_with_this_process_as_owner_is_running():
    status = RunStatus(id="r")
    status.claim()
    assert status.effective_state == "running"


def test_running_with_a_dead_owner_reads_as_interrupted(dead_pid):
    status = RunStatus(id="r", pid=dead_pid)
    assert status.effective_state == "interrupted"


def test_a_recycled_pid_is_not_the_owner():
    status = RunStatus(id="r")
    status.claim()
    if status.pid_started is None:
        pytest.skip("no /proc: start ticks are not available on this platform")
    status.pid_started -= 1  # the same pid, started at another time: another process
    assert status.effective_state == "interrupted"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="zombies are read from /proc")
def test_a_killed_but_unreaped_owner_is_dead():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    status = RunStatus(id="r", pid=proc.pid)
    assert status.effective_state == "running"
    proc.kill()
    deadline = time.time() + 10
    while status.owner_alive() and time.time() < deadline:
        time.sleep(0.05)
    try:
        assert status.effective_state == "interrupted"
    finally:
        proc.wait()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="zombies are read from /proc")
def test_a_process_group_of_zombies_is_not_alive():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    assert group_alive(proc.pid)
    os.killpg(proc.pid, 9)
    deadline = time.time() + 10
    while group_alive(proc.pid) and time.time() < deadline:
        time.sleep(0.05)
    try:
        assert not group_alive(proc.pid)  # a zombie until proc.wait(), yet dead
    finally:
        proc.wait()
