"""The baseline stage: measure the ladder for each candidate model with a local path
(or the one named), score every rung as `ftspec eval` would, and keep it all under baselines/<id>/."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from ftspec.baseline import ladder
from ftspec.baseline.keys import data_key, measurement_keys
from ftspec.baseline.scoring import score_rung
from ftspec.baseline.store import Stored, claim, stored, write_record
from ftspec.compiler.pipeline import CheckResult, check_project
from ftspec.errors import UsageError
from ftspec.fsutil import atomic_write_text
from ftspec.runtime.rundir import PREDICTIONS
from ftspec.spec.models import ModelSpec


def measurable_models(result: CheckResult, name: str | None) -> list[tuple[int, ModelSpec]]:
    models = list(enumerate(result.loaded.spec.models))
    if name is not None:
        models = [(i, m) for i, m in models if m.name == name]
        if not models:
            known = ", ".join(m.name for m in result.loaded.spec.models)
            raise UsageError(f"no model `{name}` in the spec", f"choose one of: {known}")
    local = [(i, m) for i, m in models if m.path is not None]
    if not local:
        raise UsageError("no candidate model has a local `path`, so there is nothing to measure offline",
                         "add `path:` to a model under `models:` (a folder with config.json and weights)")
    missing = [m for _, m in local if not result.loaded.resolve(m.path).is_dir()]
    if missing:
        raise UsageError(f"model `{missing[0].name}`: no folder at {result.loaded.resolve(missing[0].path)}",
                         "create or download it first (the demo's: `ftspec demo-model PATH`)")
    return local


def measure(result: CheckResult, index: int, model: ModelSpec, data: str) -> dict:
    """Generate and score every rung for one model in a claimed baselines/<id>/ run folder; its status says how
    it ended (completed, failed, interrupted)."""
    run, status = claim(result.loaded.root)
    try:
        record = _measure(result, index, model, data, run.path)
    except KeyboardInterrupt:
        _end(run, status, "interrupted", 130)
        raise
    except BaseException:
        _end(run, status, "failed", 1)
        raise
    _end(run, status, "completed", 0)
    return record


def _end(run, status, state: str, returncode: int) -> None:
    status.move(state, returncode)
    run.write_status(status)


def _measure(result: CheckResult, index: int, model: ModelSpec, data: str, folder: Path) -> dict:
    """Generate and score every rung for one model; the record written as baselines/<id>/baseline.json."""
    loaded = result.loaded
    rungs = ladder.rungs_for(result)
    keys = measurement_keys(loaded, model.path, data)
    record = {"id": folder.name, "model": model.name, "keys": keys, "spec": {"name": loaded.spec.name,
              "sha256": loaded.sha256}, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "few_shot_k": ladder.few_shot_k(result), "complete": False, "rungs": {}}
    write_record(folder, record)
    for name, text in ladder.render_script(result, index, model, folder, rungs).items():
        atomic_write_text(folder / name, text)
    earlier = reusable(loaded.root, model.name, keys, rungs)
    if earlier is not None:  # same prompts, data and model: only the gates changed, so rescore its predictions
        seconds = copy_predictions(earlier, folder, rungs)
        record["predictions_from"] = earlier.id
    else:
        seconds = ladder.generate(folder, rungs)
    for rung in rungs:
        scores = score_rung(loaded, folder / rung, ladder.RUNG_MODELS[rung])
        atomic_write_text(folder / rung / "scores.json", json.dumps(scores, indent=2) + "\n")
        record["rungs"][rung] = {"label": ladder.rung_label(rung, record["few_shot_k"] if "shot" in rung
                                                            and rung != "zero_shot" else None),
                                 "seconds": seconds.get(rung), **scores}
    record["complete"] = True
    write_record(folder, record)
    record["folder"] = str(folder)
    return record


def reusable(spec_root: Path, model: str, keys: dict, rungs: list[str]) -> Stored | None:
    """The newest measurement whose predictions this one would regenerate byte for byte."""
    same = ("generation", "data", "model")
    for earlier in stored(spec_root, model):
        if all(earlier.record["keys"].get(k) == keys[k] for k in same) and set(rungs) <= set(earlier.record["rungs"]):
            return earlier
    return None


def copy_predictions(earlier: Stored, folder: Path, rungs: list[str]) -> dict[str, float]:
    for rung in rungs:
        (folder / rung).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(earlier.folder / rung / PREDICTIONS, folder / rung / PREDICTIONS)
    return {rung: earlier.record["rungs"][rung].get("seconds") for rung in rungs}


def measure_baselines(spec: Path, model: str | None = None) -> tuple[list[dict], CheckResult]:
    """Measure every local candidate (or the one named); the records and the check result that now sees them."""
    result = check_project(spec)
    models = measurable_models(result, model)
    data = data_key(result.loaded)
    records = [measure(result, index, chosen, data) for index, chosen in models]
    return records, check_project(spec)  # the decision, now with this evidence
