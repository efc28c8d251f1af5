"""What a measurement depends on, as hashes: the spec's relevant parts, the data, the model. A baseline whose keys
differ from the spec's today is stale and is never used silently."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ftspec.spec.load import LoadedSpec

WHOLE_FILE_BYTES = 64 * 2**20  # larger model files are keyed by size and their first and last MiB
EDGE_BYTES = 2**20
KEY_NAMES = {"generation": "the spec's prompt, data or generation settings", "scoring": "the spec's metrics",
             "data": "the data", "model": "the model"}


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def generation_part(loaded: LoadedSpec) -> dict:
    """Everything in the spec that changes the generated predictions."""
    spec = loaded.spec
    data = spec.data.model_dump(mode="json", exclude={"quality"})
    evaluation = spec.evaluation.model_dump(mode="json", include={"baselines", "generation", "max_examples"})
    return {"data": data, "evaluation": evaluation, "seed": spec.training.seed,
            "retrieval": spec.retrieval.model_dump(mode="json")}


def scoring_part(loaded: LoadedSpec) -> dict:
    """Everything in the spec that changes the scores and verdicts of the same predictions."""
    spec = loaded.spec
    return {"metrics": [m.model_dump(mode="json", by_alias=True) for m in spec.metrics],
            "evaluation": spec.evaluation.model_dump(mode="json", include={"confidence", "bootstrap_samples",
                                                                          "gate_on_lower_bound"}),
            "seed": spec.training.seed}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_files(loaded: LoadedSpec) -> list[Path]:
    """Every data file the ladder reads: train, eval, adversarial, regression and the documents."""
    data = loaded.spec.data
    named = [*data.train, data.eval, data.adversarial, data.regression, *(data.documents or [])]
    found: list[Path] = []
    for relative in dict.fromkeys(p for p in named if p):
        path = loaded.resolve(relative)
        found += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return found


def data_key(loaded: LoadedSpec) -> str:
    root = loaded.root.resolve()
    return _digest({_relative(p, root): file_sha256(p) if p.is_file() else None for p in data_files(loaded)})


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def model_key(folder: Path) -> str:
    """A local model folder's files: names, sizes and contents (the edges of a very large file)."""
    entries = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        size = path.stat().st_size
        if size <= WHOLE_FILE_BYTES:
            entries[path.relative_to(folder).as_posix()] = [size, file_sha256(path)]
        else:
            with open(path, "rb") as handle:
                head = handle.read(EDGE_BYTES)
                handle.seek(size - EDGE_BYTES)
                tail = handle.read()
            entries[path.relative_to(folder).as_posix()] = [size, hashlib.sha256(head + tail).hexdigest()]
    return _digest(entries)


def measurement_keys(loaded: LoadedSpec, model_path: str, data: str | None = None) -> dict[str, str]:
    return {"generation": _digest(generation_part(loaded)), "scoring": _digest(scoring_part(loaded)),
            "data": data if data is not None else data_key(loaded), "model": model_key(loaded.resolve(model_path))}


def changed(recorded: dict, current: dict) -> list[str]:
    """What changed since a measurement, in words."""
    return [KEY_NAMES[name] for name in KEY_NAMES if recorded.get(name) != current.get(name)]
