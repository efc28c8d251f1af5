"""Checks that span several fields or touch the disk, run after the models validate."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ftspec.errors import Problem
from ftspec.spec.hints import did_you_mean, one_of
from ftspec.spec.source import dotted
from ftspec.spec.vocab import AUDIT_CHECKS, FORMAT_FIELDS, METRICS, OPTIONAL_FIELDS

if TYPE_CHECKING:
    from ftspec.spec.load import LoadedSpec


def semantic_problems(loaded: LoadedSpec) -> list[Problem]:
    problems: list[Problem] = []

    def add(path: tuple, message: str, hint: str | None = None, *, key: bool = False) -> None:
        problems.append(Problem(loaded.source.locate(path, key=key), dotted(path), message, hint))

    _check_metrics(loaded, add)
    _check_data(loaded, add)
    _check_models(loaded, add)
    return problems


def _check_metrics(loaded: LoadedSpec, add) -> None:
    spec = loaded.spec
    declared = [b.name for b in spec.evaluation.baselines]
    for i, metric in enumerate(spec.metrics):
        here = ("metrics", i)
        info = METRICS[metric.name]
        if info.needs == "pattern" and not metric.pattern:
            add(here, f"`{metric.name}` needs a `pattern`", f"add `pattern: ...` to metrics[{i}]")
        if info.needs == "schema":
            if metric.schema_ is None:
                add(here, "`json_schema` needs a `schema`", "add `schema: path/to/schema.json` or an inline schema")
            elif isinstance(metric.schema_, str) and not loaded.resolve(metric.schema_).is_file():
                add((*here, "schema"), f"no such file: {metric.schema_}", "paths are relative to the spec file")
        if metric.vs_baseline and metric.vs_baseline not in declared:
            add((*here, "vs_baseline"), f"baseline `{metric.vs_baseline}` is not in evaluation.baselines",
                f"add `- name: {metric.vs_baseline}` under evaluation.baselines")
        slice_file = {"adversarial": spec.data.adversarial, "regression": spec.data.regression}
        if metric.slice in slice_file and slice_file[metric.slice] is None:
            add((*here, "slice"), f"slice `{metric.slice}` has no data",
                f"set data.{metric.slice} to a file of {metric.slice} examples")


def _check_data(loaded: LoadedSpec, add) -> None:
    data = loaded.spec.data
    if data.eval is not None and data.holdout is not None:
        add(("data", "holdout"), "set either `eval` or `holdout`, not both",
            "keep `eval` for a fixed held-out file, or `holdout` to split train")
    files = [(("data", "train", i), p) for i, p in enumerate(data.train)]
    files += [(("data", name), getattr(data, name)) for name in ("eval", "adversarial", "regression")]
    for path, relative in files:
        if relative is None:
            continue
        resolved = loaded.resolve(relative)
        if not resolved.exists():
            add(path, f"no such file: {relative}", f"paths are relative to the spec's folder ({loaded.root})")
        elif not resolved.is_file():
            add(path, f"not a file: {relative}", "name a JSONL, JSON, CSV or Parquet file")
    canonical = FORMAT_FIELDS[data.format] + OPTIONAL_FIELDS
    for name in data.fields:
        if name not in canonical:
            add(("data", "fields", name), f"`{name}` is not a field of the {data.format} format",
                did_you_mean(name, canonical) or one_of(canonical), key=True)
    for check in data.quality.severity:
        if check not in AUDIT_CHECKS:
            add(("data", "quality", "severity", check), f"unknown audit check `{check}`",
                did_you_mean(check, tuple(AUDIT_CHECKS)) or one_of(tuple(AUDIT_CHECKS)), key=True)
    _check_method_format(loaded, add)


def _check_method_format(loaded: LoadedSpec, add) -> None:
    """A `method:` that names an objective (dpo) needs data in a format that objective trains on."""
    from ftspec.compiler.methods import named_objective

    data, objective = loaded.spec.data, named_objective(loaded.spec.method)
    if objective is not None and data.format not in objective.formats:
        add(("method",), f"{objective.title} trains on {objective.data_label}, but data.format is {data.format}",
            " or ".join(f"set data.format: {f} with {'/'.join(FORMAT_FIELDS[f])} rows" for f in objective.formats)
            + ", or pick another method")


def _check_models(loaded: LoadedSpec, add) -> None:
    names: set[str] = set()
    for i, model in enumerate(loaded.spec.models):
        here = ("models", i)
        if model.name in names:
            add((*here, "name"), f"duplicate model name `{model.name}`", "give each candidate its own name")
        names.add(model.name)
        if (model.path is None) == (model.hub is None):
            add(here, "give exactly one of `path` (a local directory) or `hub` (a model id)",
                "e.g. `path: models/demo` or `hub: Qwen/Qwen2.5-0.5B-Instruct`")
            continue
        if model.path is not None:
            local = loaded.resolve(model.path)
            if not local.is_dir():
                add((*here, "path"), f"no such model directory: {model.path}",
                    "make it first (the demo: `ftspec demo-model`), or fix the path")
        elif model.params is None:
            add(here, f"`params` is required for hub model `{model.hub}`",
                "ftspec never downloads to count parameters; add e.g. `params: 0.5B`")
