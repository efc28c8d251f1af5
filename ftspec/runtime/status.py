"""status.json: a run's state, and the transitions between states.

running -> completed | failed | interrupted;  failed | interrupted -> running (resume);  completed is final.
A `running` status whose ftspec process is gone (kill -9, a crash, a reboot) reads as interrupted.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from ftspec.fsutil import atomic_write_text

State = Literal["running", "completed", "failed", "interrupted"]
Stage = Literal["train", "eval"]
RunKind = Literal["train", "baseline", "trial"]  # a training run, a baseline rung, a sweep trial
RUN_KINDS: tuple[str, ...] = ("train", "baseline", "trial")
STATUS_FILE = "status.json"
_NEXT: dict[str, tuple[str, ...]] = {
    "running": ("completed", "failed", "interrupted"),
    "failed": ("running",),
    "interrupted": ("running",),
    "completed": (),
}


class TransitionError(ValueError):
    pass


@dataclass
class RunStatus:
    id: str
    state: State = "running"
    started: float = field(default_factory=time.time)  # epoch seconds
    ended: float | None = None
    returncode: int | None = None
    stage: Stage = "train"
    pid: int | None = None  # the `ftspec run` process that owns the run while it is running
    pid_started: int | None = None  # that process's start tick, so a recycled pid is not mistaken for it
    child_pgid: int | None = None  # the process group of the running script
    host: str | None = None
    attempts: int = 1  # 1 + the number of resumes
    eval_skipped: bool = False  # completed with `--no-eval`: `--resume` may still run the eval stage
    kind: RunKind = "train"  # status.json written before kinds existed reads as a training run

    def move(self, state: State, returncode: int | None = None) -> None:
        current = self.effective_state  # a `running` run whose owner died may be taken over
        eval_left = current == "completed" and state == "running" and self.eval_skipped
        if state not in _NEXT[current] and not eval_left:
            raise TransitionError(f"a {current} run cannot become {state}")
        self.state = state
        if state == "running":
            self.ended, self.returncode, self.eval_skipped = None, None, False
            self.attempts += 1
            self.claim()
        else:
            self.ended, self.returncode, self.child_pgid = time.time(), returncode, None

    def claim(self) -> None:
        """Record this process as the owner, for the liveness check after a kill -9."""
        self.pid, self.pid_started, self.host = os.getpid(), process_start_tick(os.getpid()), socket.gethostname()

    @property
    def effective_state(self) -> str:
        if self.state == "running" and not self.owner_alive():
            return "interrupted"
        return self.state

    def owner_alive(self) -> bool:
        if self.pid is None:
            return False
        if self.host and self.host != socket.gethostname():
            return True  # another machine's process: we cannot tell, so never treat it as dead
        if not pid_alive(self.pid) or _proc_stat(self.pid)[0] == "Z":  # a zombie is dead, only not yet reaped
            return False
        return self.pid_started is None or process_start_tick(self.pid) == self.pid_started

    def orphan_alive(self) -> bool:
        """A script left running by an ftspec process that was killed."""
        return self.child_pgid is not None and not self.owner_alive() and group_alive(self.child_pgid)

    def to_json(self) -> dict:
        return asdict(self)


def write_status(run_dir: Path, status: RunStatus) -> None:
    atomic_write_text(run_dir / STATUS_FILE, json.dumps(status.to_json(), indent=2) + "\n")


def read_status(run_dir: Path) -> RunStatus | None:
    """None when status.json is missing or unreadable (a folder claimed by a run that crashed at once)."""
    try:
        data = json.loads((run_dir / STATUS_FILE).read_text(encoding="utf-8"))
        known = {k: v for k, v in data.items() if k in RunStatus.__dataclass_fields__}
        status = RunStatus(**known)
    except (OSError, ValueError, TypeError, AttributeError):
        return None
    valid = (status.state in _NEXT and isinstance(status.id, str) and isinstance(status.started, (int, float))
             and (status.pid is None or isinstance(status.pid, int)) and status.kind in RUN_KINDS)
    return status if valid else None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def group_alive(pgid: int) -> bool:
    """Whether a process group has a live member. On Linux, zombies (dead, not yet reaped) do not count."""
    proc = Path("/proc")
    if proc.is_dir():
        return any(_member(entry.name, pgid) for entry in proc.iterdir() if entry.name.isdigit())
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _member(pid: str, pgid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    return fields[2] == str(pgid) and fields[0] != "Z"


def process_start_tick(pid: int) -> int | None:
    """The process start time in clock ticks since boot (Linux /proc); None where unavailable."""
    return _proc_stat(pid)[1]


def _proc_stat(pid: int) -> tuple[str | None, int | None]:
    """(state letter, start tick) from /proc/PID/stat, or (None, None) off Linux or for a gone process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None, None
    # the command name (field 2) may hold spaces and parentheses: split after its last ')'
    fields = stat.rsplit(")", 1)[1].split()
    return fields[0], (int(fields[19]) if len(fields) > 19 else None)
