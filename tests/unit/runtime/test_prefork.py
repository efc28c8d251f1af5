"""The fork server runs a script as `python SCRIPT ARGS` would: its argv, folder, environment, log, exit code, and
a group that a signal reaches; its runs die with it."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from ftspec.runtime.prefork import ForkServer

SCRIPT = """
import json, os, sys, time
print(json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd(), "name": __name__, "file": os.path.basename(__file__),
                  "env": os.environ.get("FTSPEC_TEST_VALUE")}))
if sys.argv[1] == "sleep":
    time.sleep(60)
if sys.argv[1] == "fail":
    raise ValueError("broken on purpose")
sys.exit(int(sys.argv[1]))
"""


@pytest.fixture
def server():
    started = ForkServer.start(preload=("json",))
    assert started is not None
    yield started
    started.close()


def script(tmp_path: Path) -> Path:
    path = tmp_path / "build" / "train.py"
    path.parent.mkdir()
    path.write_text(SCRIPT, encoding="utf-8")
    return path


def test_a_forked_run_has_the_script_argv_folder_environment_log_and_exit_code(server, tmp_path, monkeypatch):
    path = script(tmp_path)
    monkeypatch.setenv("FTSPEC_TEST_VALUE", "from the caller")
    log = tmp_path / "logs" / "train.log"
    result = server.run([sys.executable, "train.py", "3"], cwd=path.parent, log_path=log)
    assert (result.returncode, result.signal) == (3, None)
    text = log.read_text(encoding="utf-8")
    assert "(forked)" in text
    assert f'"argv": ["3"], "cwd": "{path.parent}", "name": "__main__", "file": "train.py"' in text
    assert '"env": "from the caller"' in text


def test_an_exception_is_in_the_log_and_exits_1_and_the_server_runs_the_next(server, tmp_path):
    path = script(tmp_path)
    log = tmp_path / "train.log"
    assert server.run([sys.executable, "train.py", "fail"], cwd=path.parent, log_path=log).returncode == 1
    assert "ValueError: broken on purpose" in log.read_text(encoding="utf-8")
    assert server.run([sys.executable, "train.py", "0"], cwd=path.parent, log_path=log).returncode == 0


def test_a_signal_reaches_the_run_group_and_the_runs_die_with_the_server(server, tmp_path):
    path = script(tmp_path)
    groups: list[int] = []

    def stop_once_started() -> None:
        if groups and "sleep" in (tmp_path / "train.log").read_text(encoding="utf-8"):
            os.killpg(groups[0], signal.SIGTERM)

    result = server.run([sys.executable, "train.py", "sleep"], cwd=path.parent, log_path=tmp_path / "train.log",
                        on_tick=stop_once_started, on_start=groups.append)
    assert result.returncode == -signal.SIGTERM

    import threading

    outcome: list = []
    runner = threading.Thread(target=lambda: outcome.append(server.run(
        [sys.executable, "train.py", "sleep"], cwd=path.parent, log_path=tmp_path / "second.log",
        on_start=groups.append)))
    runner.start()
    while len(groups) < 2:
        time.sleep(0.05)
    server.proc.kill()  # the server is gone: its run goes with it, and the caller is told
    runner.join(timeout=30)
    assert not runner.is_alive() and outcome[0].returncode != 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(groups[1]):
        time.sleep(0.1)
    assert not _alive(groups[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
        return handle.read().split()[2] != "Z"
