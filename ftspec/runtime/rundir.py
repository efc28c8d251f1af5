"""Run folders: runs/<id>/ beside the spec. A folder is claimed with an exclusive mkdir, so no run ever lands in
an earlier run's folder, even when two `ftspec run` start in the same second."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from ftspec.errors import UsageError
from ftspec.runtime.status import RunStatus, read_status

RUN_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{4}$")
_ATTEMPTS = 100


def runs_root(spec_path: Path) -> Path:
    return spec_path.resolve().parent / "runs"


def new_run_id(now: float | None = None, suffix: Callable[[], str] = lambda: secrets.token_hex(2)) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() if now is None else now))
    return f"{stamp}-{suffix()}"


def create_run_dir(root: Path, now: float | None = None,
                   suffix: Callable[[], str] = lambda: secrets.token_hex(2)) -> Path:
    """Claim a fresh runs/<id>/ atomically; on a clash pick another suffix, never reuse a folder."""
    root.mkdir(parents=True, exist_ok=True)
    for _ in range(_ATTEMPTS):
        path = root / new_run_id(now, suffix)
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise UsageError(f"could not claim a new run folder under {root} after {_ATTEMPTS} tries",
                     "check that the folder is writable and not full of clashing names")


def list_runs(root: Path) -> list[tuple[Path, RunStatus | None]]:
    """Every run folder, oldest first (by start time, then id); status None where status.json is unreadable."""
    if not root.is_dir():
        return []
    found = [(path, read_status(path)) for path in root.iterdir() if path.is_dir() and RUN_ID.match(path.name)]
    return sorted(found, key=lambda item: (item[1].started if item[1] else 0.0, item[0].name))


def matching(names: list[str], ref: str) -> list[str]:
    """What a run reference names, for `run --resume` and `eval --run` alike: `last` is the newest of names (given
    oldest first), an exact id is itself, anything else is every id it starts."""
    if ref == "last":
        return names[-1:]
    return [name for name in names if name == ref] or [name for name in names if name.startswith(ref)]


def find_run(root: Path, ref: str) -> tuple[Path, RunStatus]:
    """`last` or an id (a unique prefix is enough) -> the run folder and its status."""
    runs = list_runs(root)
    if not runs:
        raise UsageError(f"no runs under {root}", "start one with `ftspec run SPEC`")
    chosen = set(matching([path.name for path, _ in runs], ref))
    matches = [item for item in runs if item[0].name in chosen]
    if len(matches) != 1:
        known = ", ".join(path.name for path, _ in runs[-5:])
        what = "no run" if not matches else f"{len(matches)} runs"
        raise UsageError(f"{what} matching `{ref}` under {root}", f"pass `last` or one of: {known}")
    path, status = matches[0]
    if status is None:
        raise UsageError(f"run {path.name} has no readable status.json", "start a new run with `ftspec run SPEC`")
    return path, status
