"""Start a generated script and watch it until it ends.

The script runs in its own session (process group), so a Ctrl-C in the terminal reaches ftspec alone; ftspec
forwards it to the whole group, waits a few seconds for a clean exit, then kills the group. On Linux the script
also dies with ftspec (PR_SET_PDEATHSIG), so a kill -9 of `ftspec run` leaves no training behind it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

GRACE_SECONDS = 5.0  # after forwarding Ctrl-C, how long the script gets to exit before it is killed
POLL_SECONDS = 0.5
_FORWARDED = (signal.SIGINT, signal.SIGTERM)


@dataclass
class ChildResult:
    returncode: int
    signal: int | None  # the signal ftspec received and forwarded, if any: the run was interrupted


def run_child(argv: list[str], cwd: Path, log_path: Path, on_tick: Callable[[], None] = lambda: None,
              on_start: Callable[[int], None] = lambda pgid: None, grace: float = GRACE_SECONDS) -> ChildResult:
    """Run argv in cwd with stdout and stderr appended to log_path; call on_tick every poll until it exits."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    received: list[int] = []
    with open(log_path, "ab") as log:
        log.write(log_header(argv))
        log.flush()
        with _forwarding_signals(received):
            proc = subprocess.Popen(argv, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True,
                                    preexec_fn=_die_with_parent())
            on_start(proc.pid)
            returncode = _watch(proc, received, on_tick, grace)
    return ChildResult(returncode, received[0] if received else None)


def log_header(argv: list[str], how: str = "") -> bytes:
    """The line that opens each launch in a script's log: when, what, and how it was started."""
    return f"\n=== ftspec {time.strftime('%Y-%m-%d %H:%M:%S')}: {' '.join(argv)}{how}\n".encode()


def _watch(proc: subprocess.Popen, received: list[int], on_tick: Callable[[], None], grace: float) -> int:
    forwarded_at: float | None = None
    while True:
        try:
            return proc.wait(timeout=POLL_SECONDS)
        except subprocess.TimeoutExpired:
            pass
        on_tick()
        if received and forwarded_at is None:
            _signal_group(proc.pid, received[0])
            forwarded_at = time.monotonic()
        elif forwarded_at is not None and (len(received) > 1 or time.monotonic() - forwarded_at > grace):
            _signal_group(proc.pid, signal.SIGKILL)  # a second Ctrl-C, or the grace period is over


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


class _forwarding_signals:
    """Record SIGINT/SIGTERM instead of dying of them, for the watch loop to forward (main thread only)."""

    def __init__(self, received: list[int]):
        self.received, self.previous = received, {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for signum in _FORWARDED:
                self.previous[signum] = signal.signal(signum, lambda s, _f: self.received.append(s))
        return self

    def __exit__(self, *exc):
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)


def _die_with_parent() -> Callable[[], None] | None:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def set_death_signal() -> None:
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(137)

    return set_death_signal


def node_count(folder: Path) -> int:
    """The machines the build was planned for (manifest.json's plan), 1 when it does not say."""
    import json

    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 1
    for holder in (manifest.get("plan", {}), manifest) if isinstance(manifest, dict) else ():
        count = (holder.get("distributed") or {}).get("num_machines") if isinstance(holder, dict) else None
        if isinstance(count, int) and count >= 1:
            return count
    return 1


def node_train_argv(folder: Path, rank: int, args: list[str]) -> list[str]:
    """One node's share of the training: what launch_node_<rank>.sh runs, from this interpreter's environment.
    MAIN_ADDR and MAIN_PORT override the config's address and port, as in the script."""
    from ftspec.errors import UsageError

    nodes = node_count(folder)
    config = folder / f"accelerate_node_{rank}.yaml"
    if not 0 <= rank < nodes or not config.is_file():
        raise UsageError(f"--node-rank {rank} is not a node of this build ({nodes} node(s): ranks 0..{nodes - 1})",
                         "set requirements.constraints.nodes in the spec, then build again")
    where = [f"--main_process_{key}={os.environ[var]}" for key, var in (("ip", "MAIN_ADDR"), ("port", "MAIN_PORT"))
             if os.environ.get(var)]
    return [sys.executable, "-m", "accelerate.commands.launch", "--config_file", config.name,
            "--machine_rank", str(rank), *where, "train.py", *args]
