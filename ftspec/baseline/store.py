"""baselines/<id>/ beside the spec: one folder per measurement of one model, never overwritten. Each is a run
folder of kind "baseline", claimed and given its status.json by ftspec.runtime.rundir (the one owner of run folders).

    baselines/<id>/status.json             running, then completed or failed (runtime/status.py)
    baselines/<id>/baseline.json           model, keys, and each rung's gates, table and cost
    baselines/<id>/baseline.py             the generation script, prompt_format.json beside it
    baselines/<id>/<rung>/predictions.jsonl, <rung>/scores.json
    baselines/<id>/logs/baseline.log
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ftspec.fsutil import atomic_write_text
from ftspec.runtime.rundir import RUN_ID, RunDir, Runs
from ftspec.runtime.status import RunStatus

RECORD = "baseline.json"
FORMAT = 1


def baselines_root(spec_root: Path) -> Path:
    return spec_root / "baselines"


def claim(spec_root: Path) -> tuple[RunDir, RunStatus]:
    """A fresh baselines/<id>/, claimed as `Runs` claims any run folder (an exclusive mkdir), status `running`."""
    return Runs(baselines_root(spec_root)).claim("baseline")


def write_record(folder: Path, record: dict) -> None:
    atomic_write_text(folder / RECORD, json.dumps({"ftspec_baseline": FORMAT, **record}, indent=2) + "\n")


@dataclass
class Stored:
    folder: Path
    record: dict

    @property
    def id(self) -> str:
        return self.folder.name


def stored(spec_root: Path, model: str | None = None) -> list[Stored]:
    """Every complete measurement (of `model`, when named), newest first."""
    root = baselines_root(spec_root)
    if not root.is_dir():
        return []
    found = []
    for folder in sorted((p for p in root.iterdir() if p.is_dir() and RUN_ID.match(p.name)), reverse=True):
        try:
            record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a measurement cut short has no record: never evidence
        if isinstance(record, dict) and record.get("complete") and (model is None or record.get("model") == model):
            found.append(Stored(folder, record))
    return found
