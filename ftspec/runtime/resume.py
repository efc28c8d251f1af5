"""Which run `--resume` continues, and from where."""

from __future__ import annotations

import re
from pathlib import Path

from ftspec.errors import UsageError
from ftspec.runtime.rundir import CHECKPOINTS, find_run
from ftspec.runtime.status import RunStatus

_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


def resume_target(root: Path, ref: str, spec_arg: str) -> tuple[Path, RunStatus]:
    """The run to resume: an interrupted or failed one, a `running` one whose ftspec process is gone, or one that
    completed its training under `--no-eval` (its eval stage is what is left)."""
    path, status = find_run(root, ref)
    if status.state == "completed" and not status.eval_skipped:
        raise UsageError(f"run {path.name} already completed; there is nothing to resume",
                         f"start a new run with `ftspec run {spec_arg}`, or score this one with "
                         f"`ftspec eval {spec_arg} --run {path.name}`")
    if status.state == "running" and status.owner_alive():
        raise UsageError(f"run {path.name} is still running (ftspec pid {status.pid})",
                         "wait for it to finish, or stop it with Ctrl-C (or `kill -INT "
                         f"{status.pid}`) and resume it then")
    if status.orphan_alive():
        raise UsageError(f"run {path.name}'s script is still running without its ftspec process "
                         f"(process group {status.child_pgid})",
                         f"stop it with `kill -- -{status.child_pgid}`, then resume")
    return path, status


def last_checkpoint(run_dir: Path) -> Path | None:
    """The checkpoints/checkpoint-N folder with the highest N, or None."""
    folder = run_dir / CHECKPOINTS
    if not folder.is_dir():
        return None
    steps = [(int(m.group(1)), p) for p in folder.iterdir() if p.is_dir() and (m := _CHECKPOINT.match(p.name))]
    return max(steps)[1] if steps else None
