"""The training side of the comparison: which files the promoted model was trained on, and their profile.

The versions registry (`models.json` beside the spec) names the promoted run; that run's spec snapshot
(runs/<id>/spec.yaml) names its train files, and its manifest (runs/<id>/manifest.json) lists the data it hashed.
Where there is no registry, no promoted run, or the run's files are gone, the spec's own data.train is used, and the
report says which.
"""

from __future__ import annotations

import json
from array import array
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ftspec.data.formats import RowProblem, make_extractor
from ftspec.data.readers import read_batches
from ftspec.data.text import words
from ftspec.monitor.drift import bin_counts, quantile_edges
from ftspec.monitor.novelty import NoveltyIndex

SAMPLE = 20_000  # training values kept for the KS tests
FEATURES = ("prompt_chars", "prompt_tokens", "output_chars")


@dataclass
class TrainingSource:
    files: list[tuple[Path, str]]  # (path, name as the spec wrote it)
    source: str  # "promoted run <id>" or "data.train"
    run: str | None = None
    note: str | None = None  # why the promoted run's files were not used


@dataclass
class TrainingProfile:
    source: TrainingSource
    rows: int = 0
    bad_rows: int = 0
    index: NoveltyIndex | None = None
    edges: dict[str, list[float]] = field(default_factory=dict)
    counts: dict[str, list[int]] = field(default_factory=dict)  # per feature, training rows per bin
    samples: dict[str, list[float]] = field(default_factory=dict)  # per feature, for KS
    vocab: Counter = field(default_factory=Counter)  # word -> count in training prompts
    words: int = 0

    def to_json(self) -> dict:
        return {"source": self.source.source, "run": self.source.run, "note": self.source.note,
                "files": [name for _, name in self.source.files], "rows": self.rows, "bad_rows": self.bad_rows,
                "vocabulary": len(self.vocab)}


def promoted_run(spec_root: Path) -> str | None:
    """The promoted run id in models.json, read leniently: {"promoted": id}, {"promoted": {"run": id}}, or a list
    of entries with a `stage`/`promoted` mark."""
    try:
        registry = json.loads((spec_root / "models.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(registry, dict):
        found = registry.get("promoted")
        if isinstance(found, str):
            return found
        if isinstance(found, dict):
            return _run_of(found)
        registry = registry.get("models") or registry.get("versions") or []
    for entry in registry if isinstance(registry, list) else []:
        if isinstance(entry, dict) and (entry.get("promoted") is True or entry.get("stage") == "promoted"):
            return _run_of(entry)
    return None


def _run_of(entry: dict) -> str | None:
    for key in ("run", "run_id", "id"):
        if isinstance(entry.get(key), str):
            return entry[key]
    return None


def training_source(loaded) -> TrainingSource:
    spec_files = [(loaded.resolve(name), name) for name in loaded.spec.data.train]
    run = promoted_run(loaded.root)
    if run is None:
        return TrainingSource(spec_files, "data.train")
    files, note = _run_files(loaded.root, run)
    if files is None:
        return TrainingSource(spec_files, "data.train", run, note)
    return TrainingSource(files, f"promoted run {run}", run)


def _run_files(root: Path, run: str) -> tuple[list | None, str | None]:
    import yaml

    folder = root / "runs" / run
    try:
        snapshot = yaml.safe_load((folder / "spec.yaml").read_text(encoding="utf-8"))
        hashed = json.loads((folder / "manifest.json").read_text(encoding="utf-8")).get("data", {})
    except (OSError, ValueError, yaml.YAMLError) as exc:
        return None, f"promoted run {run}: cannot read its spec snapshot or manifest ({exc}); using data.train"
    train = (snapshot or {}).get("data", {}).get("train")
    names = [train] if isinstance(train, str) else list(train or [])
    names = [name for name in names if name in hashed] or names
    files = [(root / name, name) for name in names if (root / name).is_file()]
    if not files or len(files) < len(names):
        return None, f"promoted run {run}: its train files are missing; using data.train"
    return files, None


def profile_training(loaded, near_similarity: float) -> TrainingProfile:
    """One pass over the train files: the novelty index of prompts, the length bins, the vocabulary."""
    spec = loaded.spec
    profile = TrainingProfile(training_source(loaded))
    extract = make_extractor(spec.data.format, spec.data.fields)
    profile.index = NoveltyIndex(near_similarity)
    values = {name: array("d") for name in FEATURES}
    for path, name in profile.source.files:
        for batch in read_batches(path, name=name):
            prompts = []
            for record in batch.records:
                try:
                    view = extract(record)
                except RowProblem:
                    profile.bad_rows += 1
                    continue
                tokens = words(view.prompt)
                profile.vocab.update(tokens)
                profile.words += len(tokens)
                values["prompt_chars"].append(len(view.prompt))
                values["prompt_tokens"].append(len(tokens))
                values["output_chars"].append(len(view.target))
                prompts.append(tokens)
            profile.index.add_training(prompts)
            profile.rows += len(prompts)
    for name, column in values.items():
        profile.edges[name] = quantile_edges(column)
        profile.counts[name] = bin_counts(column, profile.edges[name]).tolist() if len(column) else []
        profile.samples[name] = _spread(column, SAMPLE)
    return profile


def _spread(column: array, size: int) -> list[float]:
    """An evenly spaced subsample (deterministic) of at most `size` values."""
    if len(column) <= size:
        return list(column)
    step = len(column) / size
    return [column[int(i * step)] for i in range(size)]
