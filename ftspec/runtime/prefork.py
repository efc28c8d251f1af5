"""A fork server for many short runs of one generated script (the trials of a sweep).

Importing torch, transformers, TRL and peft takes ~7 s on 2 cores: most of a short trial's overhead. The server is
one Python process that imports them once, then forks a child per run; each child runs the script as `python
SCRIPT ARGS` would (its own session, log, working folder and argv, `__main__`), so the trial's files, logs, exit
code and Ctrl-C handling are those of `launch.run_child`. The server is single-threaded (a fork copies no lock
held by another thread) and runs no torch op before forking (no OpenMP pool to inherit). It dies with ftspec, and
its children die with it (PR_SET_PDEATHSIG), so a kill -9 of the sweep leaves nothing training.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from ftspec.runtime.launch import (
    GRACE_SECONDS,
    ChildResult,
    _die_with_parent,
    _forwarding_signals,
    _watch,
    log_header,
)

PRELOAD = ("torch", "datasets", "transformers", "trl", "peft")
READY_TIMEOUT = 300.0  # seconds for the server's imports; past it the caller launches the usual way

SERVER = r"""
import ctypes, json, os, runpy, select, signal, sys, traceback
answers = os.dup(1)
os.dup2(2, 1)  # what a library prints while importing stays off the answers
for name in json.loads(sys.argv[1]):
    try:
        __import__(name)
    except Exception:
        pass  # the script imports it again and its log shows the error
libc = ctypes.CDLL(None, use_errno=True)


def say(message):
    os.write(answers, (json.dumps(message) + "\n").encode())  # a raw write: no buffer lock a child could inherit


def child(request):
    code = 1
    try:
        os.setsid()
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: the run dies with the server
        log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.close(answers)
        sys.stdout = open(1, "w", buffering=1, closefd=False)
        sys.stderr = open(2, "w", buffering=1, closefd=False)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        script = os.path.abspath(request["argv"][0])
        sys.argv = [request["argv"][0], *request["argv"][1:]]
        sys.path[0] = os.path.dirname(script)
        code = 0
        runpy.run_path(script, run_name="__main__")
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        if stop.code is not None and not isinstance(stop.code, int):
            print(stop.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(code)


say({"ready": os.getpid()})
pending = b""
while True:
    readable, _, _ = select.select([0], [], [], 0.1)
    if readable:
        chunk = os.read(0, 1 << 16)
        if not chunk:
            break  # ftspec is gone: exit, and the runs die with the server
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            request = json.loads(line)
            pid = os.fork()
            if pid == 0:
                child(request)
            say({"id": request["id"], "pid": pid})
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        say({"exit": pid, "code": os.waitstatus_to_exitcode(status)})
"""


class ForkServer:
    """Start with `ForkServer.start()` (None when it cannot), `run` a script per trial, `close` at the end."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.lock = threading.Lock()  # parallel trials send requests from several threads
        self.changed = threading.Condition()
        self.pids: dict[int, int] = {}
        self.exits: dict[int, int] = {}
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    @classmethod
    def start(cls, preload: tuple[str, ...] = PRELOAD) -> ForkServer | None:
        try:
            proc = subprocess.Popen([sys.executable, "-c", SERVER, json.dumps(list(preload))],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                    start_new_session=True, preexec_fn=_die_with_parent())
        except OSError:
            return None
        line = _read_line(proc, READY_TIMEOUT)
        if not line or "ready" not in line:
            _stop(proc)
            return None
        return cls(proc)

    def run(self, argv: list[str], cwd: Path, log_path: Path, on_tick: Callable[[], None] = lambda: None,
            on_start: Callable[[int], None] = lambda pgid: None, grace: float = GRACE_SECONDS) -> ChildResult:
        """As `launch.run_child` for `python SCRIPT ARGS` (argv[0] is this interpreter), in a forked child."""
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            log.write(log_header(argv, " (forked)"))
        received: list[int] = []
        with _forwarding_signals(received):
            pid = self._spawn(argv[1:], cwd, log_path)
            on_start(pid)
            returncode = _watch(_Forked(self, pid), received, on_tick, grace)
        return ChildResult(returncode, received[0] if received else None)

    def close(self) -> None:
        _stop(self.proc)

    def _spawn(self, argv: list[str], cwd: Path, log_path: Path) -> int:
        with self.lock:
            self.next_id += 1
            request = {"id": self.next_id, "argv": argv, "cwd": str(cwd), "log": str(log_path),
                       "env": {**os.environ, "PYTHONUNBUFFERED": "1"}}
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
            key = self.next_id
        with self.changed:
            if not self.changed.wait_for(lambda: key in self.pids or self.proc.poll() is not None, timeout=60):
                raise OSError("the fork server did not answer")
            if key not in self.pids:
                raise OSError("the fork server exited")
            return self.pids.pop(key)

    def _read(self) -> None:
        for raw in self.proc.stdout:
            try:
                message = json.loads(raw)
            except ValueError:
                continue
            with self.changed:
                if "pid" in message:
                    self.pids[message["id"]] = message["pid"]
                elif "exit" in message:
                    self.exits[message["exit"]] = message["code"]
                self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()


class _Forked:
    """The `wait(timeout)` of a Popen, for a child of the fork server."""

    def __init__(self, server: ForkServer, pid: int):
        self.server, self.pid = server, pid

    def wait(self, timeout: float) -> int:
        server = self.server
        with server.changed:
            done = server.changed.wait_for(lambda: self.pid in server.exits or server.proc.poll() is not None,
                                           timeout=timeout)
            if self.pid in server.exits:
                return server.exits.pop(self.pid)
        if done:  # the server died: its children died with it
            return -9
        raise subprocess.TimeoutExpired("forked run", timeout)


def _read_line(proc: subprocess.Popen, timeout: float) -> str | None:
    import select

    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    return proc.stdout.readline().decode() if ready else None


def _stop(proc: subprocess.Popen) -> None:
    try:
        proc.stdin.close()
    except OSError:
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
