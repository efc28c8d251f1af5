"""Supervising a script: its output lands in the log, its exit code comes back, and a Ctrl-C received by ftspec
is forwarded to the script's process group, which is killed if it will not stop."""

from __future__ import annotations

import os
import signal
import sys

from ftspec.runtime.launch import run_child
from ftspec.runtime.status import group_alive


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_output_goes_to_the_log_and_the_exit_code_comes_back(tmp_path):
    log = tmp_path / "logs" / "train.log"
    result = run_child(_python("import sys; print('hello out'); print('hello err', file=sys.stderr); sys.exit(4)"),
                       cwd=tmp_path, log_path=log)
    assert (result.returncode, result.signal) == (4, None)
    text = log.read_text()
    assert "hello out" in text and "hello err" in text


def test_a_second_attempt_appends_to_the_log(tmp_path):
    log = tmp_path / "train.log"
    for word in ("first", "second"):
        run_child(_python(f"print('{word}')"), cwd=tmp_path, log_path=log)
    text = log.read_text()
    assert text.index("first") < text.index("second")


def test_the_script_runs_in_the_build_folder_in_its_own_process_group(tmp_path):
    started: list[int] = []
    result = run_child(_python("import os; print(os.getcwd()); print('pgid', os.getpgid(0))"), cwd=tmp_path,
                       log_path=tmp_path / "x.log", on_start=started.append)
    text = (tmp_path / "x.log").read_text()
    assert result.returncode == 0 and str(tmp_path) in text
    assert f"pgid {started[0]}" in text and started[0] != os.getpgid(0)


def _interrupt_once(ticks: list[int]):
    def tick() -> None:
        ticks.append(1)
        if len(ticks) == 2:  # the script is up: a user presses Ctrl-C
            os.kill(os.getpid(), signal.SIGINT)
    return tick


def test_ctrl_c_is_forwarded_and_the_script_stops(tmp_path):
    script = ("import time\ntry:\n    time.sleep(60)\nexcept KeyboardInterrupt:\n"
              "    print('saved and stopped', flush=True)\n    raise SystemExit(7)\n")
    started: list[int] = []
    result = run_child(_python(script), cwd=tmp_path, log_path=tmp_path / "t.log", on_tick=_interrupt_once([]),
                       on_start=started.append)
    assert (result.signal, result.returncode) == (signal.SIGINT, 7)
    assert "saved and stopped" in (tmp_path / "t.log").read_text()
    assert not group_alive(started[0])
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # ftspec's own handler is back


def test_a_script_that_ignores_ctrl_c_is_killed_after_the_grace_period(tmp_path):
    script = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(60)"
    started: list[int] = []
    result = run_child(_python(script), cwd=tmp_path, log_path=tmp_path / "t.log", on_tick=_interrupt_once([]),
                       on_start=started.append, grace=1.0)
    assert result.signal == signal.SIGINT and result.returncode == -signal.SIGKILL
    assert not group_alive(started[0])
