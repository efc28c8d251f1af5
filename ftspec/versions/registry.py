"""The project's model registry: models.json beside the spec, the history of promoted runs, the last one current.

`ftspec promote RUN` records a run whose report passed its gates (or one forced through, marked as such) with the
hashes that pin what it was: the spec snapshot, the data, the build manifest and the weights. `ftspec models` lists
the history; `promoted` names the current run wherever a run reference is taken.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from ftspec.errors import ExitCode, UsageError
from ftspec.fsutil import read_json_object
from ftspec.runtime.rundir import REPORT_JSON, RunDir

REGISTRY = "models.json"
FORMAT = 1


class NotPromotable(UsageError):
    """The run did not pass its gates: promoting it needs --force."""

    exit_code = ExitCode.GATE_FAILED


def registry_path(root: Path) -> Path:
    return Path(root) / REGISTRY


def read_registry(root: Path) -> dict:
    path = registry_path(root)
    if not path.is_file():
        return {"ftspec_registry": FORMAT, "promoted": None, "history": []}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the model registry {path}: {exc}",
                         "restore it from version control; it is a JSON file ftspec writes") from None
    if not isinstance(data, dict) or not isinstance(data.get("history"), list):
        raise UsageError(f"{path} is not an ftspec model registry (no `history` list)",
                         "restore it from version control, or move it aside to start a new history")
    return data


def promoted_run_id(root: Path) -> str:
    current = read_registry(root).get("promoted")
    if not current:
        raise UsageError(f"no model promoted yet in {registry_path(root)}", "promote a run with `ftspec promote RUN`")
    return current


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def weights_hashes(model_dir: Path) -> dict:
    """sha256 of every safetensors file of the run's model, and one hash over them all."""
    files = sorted(model_dir.rglob("*.safetensors")) if model_dir.is_dir() else []
    each = {str(p.relative_to(model_dir)): file_sha256(p) for p in files}
    combined = hashlib.sha256(json.dumps(each, sort_keys=True).encode()).hexdigest() if each else None
    return {"sha256": combined, "files": each}


def run_record(run: RunDir, forced: bool) -> dict:
    report = read_json_object(run.report(REPORT_JSON))
    manifest = read_json_object(run.manifest)
    spec_file = run.spec_snapshot
    gates = [{k: g.get(k) for k in ("label", "slice", "vs_baseline", "threshold", "value", "ci", "margin", "passed")}
             for g in report.get("gates", []) if isinstance(g, dict)]
    return {
        "run_id": run.id,
        "promoted_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "by": os.environ.get("FTSPEC_USER") or _user(),
        "forced": forced,
        "verdict": report.get("verdict"),
        "hashes": {"spec": file_sha256(spec_file) if spec_file.is_file() else (report.get("spec") or {}).get("sha256"),
                   "data": manifest.get("data") or {},
                   "build": file_sha256(run.manifest) if run.manifest.is_file() else None,
                   "weights": weights_hashes(run.model)},
        "gates": gates,
    }


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container
        return "unknown"


def promote(root: Path, run: RunDir, force: bool = False) -> dict:
    from ftspec.fsutil import atomic_write_text

    report = read_json_object(run.report(REPORT_JSON))
    verdict = report.get("verdict")
    if verdict != "pass" and not force:
        why = (f"has no {REPORT_JSON} (it was never evaluated)" if not report
               else f"failed its gates (verdict {verdict})")
        raise NotPromotable(f"run {run.id} {why}",
                            f"score it with `ftspec eval SPEC --run {run.id}`, or pass --force (recorded)")
    registry = read_registry(root)
    entry = run_record(run, forced=force and verdict != "pass")
    registry["promoted"] = entry["run_id"]
    registry["history"].append(entry)
    atomic_write_text(registry_path(root), json.dumps(registry, indent=2) + "\n")
    return entry


@dataclass(frozen=True)
class Promoted:
    """What `ftspec promote` did: the history entry it appended (its JSON output) and the registry's file."""

    entry: dict
    registry: Path


def promote_project(spec: Path | None, ref: str, force: bool = False) -> Promoted:
    """`ftspec promote RUN`: resolve the run among the spec's runs and record it."""
    from ftspec.spec.load import load_spec
    from ftspec.versions.refs import find_spec, resolve_run

    loaded = load_spec(find_spec(spec))
    return Promoted(promote(loaded.root, resolve_run(loaded, ref), force=force), registry_path(loaded.root))


def project_registry(spec: Path | None) -> dict:
    """`ftspec models`: the registry of the project's spec (an empty history when nothing was promoted)."""
    from ftspec.spec.load import load_spec
    from ftspec.versions.refs import find_spec

    return read_registry(load_spec(find_spec(spec)).root)
