"""Run folders: the one owner of the run-folder contract (docs/contracts.md, "Run folder").

`Runs` is a folder of runs (runs/ beside the spec): it claims a new run folder, lists them, and resolves `last`, an
id or a unique prefix. `RunDir` is one run folder: its id, its status (read and written through runtime/status.py),
and the path of each file the contract names. Every file name is defined here once; runtime, evals and ui reach a
run's files through a RunDir, and nothing else parses a run folder.

A folder is claimed with an exclusive mkdir, so no run ever lands in an earlier run's folder, even when two
`ftspec run` start in the same second. A run has a kind, recorded in status.json: a training run ("train", the
default), a baseline rung or a sweep trial; a listing can keep one kind.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ftspec.compiler.manifest import MANIFEST  # the build's manifest, copied into the run folder at its start
from ftspec.errors import UsageError
from ftspec.runtime.status import STATUS_FILE, RunKind, RunStatus, read_status, write_status

RUN_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{4}$")
RUNS = "runs"  # the folder of training runs, beside the spec
SWEEPS = "sweeps"  # `ftspec sweep`: sweeps/<id>/ beside the spec, its trials' run folders in sweeps/<id>/trials/
TRIALS = "trials"

# The files of a run folder (docs/contracts.md); each name is defined here and nowhere else.
SPEC_SNAPSHOT = "spec.yaml"
STATUS = STATUS_FILE
LOGS = "logs"
TRAIN_LOG = "train_log.jsonl"
CHECKPOINTS = "checkpoints"
MODEL = "model"
PREDICTIONS = "predictions.jsonl"
REPORT_JSON = "report.json"
REPORT_MARKDOWN = "report.md"
REPORT_FILES = (REPORT_JSON, REPORT_MARKDOWN, "junit.xml", "report.html")  # in this order: json, md, junit, html

_ATTEMPTS = 100


@dataclass(frozen=True)
class RunDir:
    """One run folder and the files the contract names in it."""

    path: Path

    @property
    def id(self) -> str:
        return self.path.name

    def status(self) -> RunStatus | None:
        """None when status.json is missing or unreadable (claimed by a run that crashed at once, or made by hand)."""
        return read_status(self.path)

    def write_status(self, status: RunStatus) -> None:
        write_status(self.path, status)

    def log(self, stage: str) -> Path:
        """The stdout and stderr of a stage's script: logs/train.log, logs/eval.log."""
        return self.path / LOGS / f"{stage}.log"

    @property
    def spec_snapshot(self) -> Path:
        return self.path / SPEC_SNAPSHOT

    @property
    def manifest(self) -> Path:
        return self.path / MANIFEST

    @property
    def train_log(self) -> Path:
        return self.path / TRAIN_LOG

    @property
    def checkpoints(self) -> Path:
        return self.path / CHECKPOINTS

    @property
    def model(self) -> Path:
        return self.path / MODEL

    @property
    def predictions(self) -> Path:
        return self.path / PREDICTIONS

    def report(self, name: str = REPORT_JSON) -> Path:
        if name not in REPORT_FILES:
            raise ValueError(f"{name} is not a report file ({', '.join(REPORT_FILES)})")
        return self.path / name


@dataclass(frozen=True)
class Runs:
    """A folder of run folders: claiming, listing and resolving a reference to one."""

    root: Path

    @classmethod
    def for_spec(cls, spec_path: Path, folder: str = RUNS) -> Runs:
        """The runs beside a spec: training runs in runs/, or another kind's folder (baselines/<id>/, a sweep's
        trials) named by `folder`, relative to the spec's folder."""
        return cls(Path(spec_path).resolve().parent / folder)

    def claim(self, kind: RunKind = "train", now: float | None = None,
              suffix: Callable[[], str] = lambda: secrets.token_hex(2)) -> tuple[RunDir, RunStatus]:
        """A fresh run folder, its status written as `running` and owned by this process."""
        run = RunDir(create_run_dir(self.root, now, suffix))
        status = RunStatus(id=run.id, kind=kind)
        status.claim()
        run.write_status(status)
        return run, status

    def list(self, kind: RunKind | None = None) -> list[tuple[RunDir, RunStatus | None]]:
        """Every run folder, oldest first; with `kind`, only runs of that kind (a run without a readable status
        has no known kind and is left out of a filtered listing)."""
        found = [(RunDir(path), status) for path, status in list_runs(self.root)]
        if kind is None:
            return found
        return [(run, status) for run, status in found if status is not None and status.kind == kind]

    def find(self, ref: str) -> tuple[RunDir, RunStatus]:
        """`last` or an id (a unique prefix is enough) -> a run that has a readable status (for `run --resume`)."""
        path, status = find_run(self.root, ref)
        return RunDir(path), status

    def pick(self, ref: str | None) -> RunDir:
        """The run to score (`eval --run`): the same references as `find`, `last` by default; any run folder counts,
        with or without a status, so a run written by hand or by another tool can be scored too. A folder that
        does not follow the id pattern is taken when named exactly."""
        ids = [run.id for run, _ in self.list()]
        hand_made = self.root / ref if ref and not ref.startswith(".") and ref != "last" else None
        if not ids and not (hand_made and hand_made.is_dir()):
            raise UsageError(f"no runs under {self.root}", "start one with `ftspec run SPEC`")
        found = matching(ids, ref or "last")
        if not found and hand_made is not None and hand_made.is_dir() and "/" not in ref:
            return RunDir(hand_made)
        if len(found) == 1:
            return RunDir(self.root / found[0])
        shown = ", ".join(ids[-5:]) + (f" (and {len(ids) - 5} older)" if len(ids) > 5 else "")
        what = f"no run `{ref}`" if not found else f"`{ref}` matches {len(found)} runs"
        raise UsageError(f"{what} under {self.root}", f"pass --run with `last`, an id or a unique prefix: {shown}")


def runs_root(spec_path: Path) -> Path:
    return Runs.for_spec(spec_path).root


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
    """Every folder named by the id pattern, oldest first: by start time where status.json says it, else by the
    time in the id, then by id. Status None where status.json is missing or unreadable."""
    if not root.is_dir():
        return []
    found = [(path, read_status(path)) for path in root.iterdir() if path.is_dir() and RUN_ID.match(path.name)]
    return sorted(found, key=lambda item: (item[1].started if item[1] else id_time(item[0].name), item[0].name))


def id_time(run_id: str) -> float:
    """The local time an id was made (epoch seconds), to order a run without a status among the others."""
    try:
        return time.mktime(time.strptime(run_id[:15], "%Y%m%d-%H%M%S"))
    except (ValueError, OverflowError):
        return 0.0


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
