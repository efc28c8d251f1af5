"""Checks that span several fields or touch the disk, run after the models validate."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ftspec.errors import Problem
from ftspec.metrics import METRICS
from ftspec.spec.hints import did_you_mean, one_of
from ftspec.spec.source import dotted
from ftspec.spec.vocab import AUDIT_CHECKS, FORMAT_FIELDS, OPTIONAL_FIELDS

if TYPE_CHECKING:
    from ftspec.spec.load import LoadedSpec


def semantic_problems(loaded: LoadedSpec) -> list[Problem]:
    problems: list[Problem] = []

    def add(path: tuple, message: str, hint: str | None = None, *, key: bool = False) -> None:
        problems.append(Problem(loaded.source.locate(path, key=key), dotted(path), message, hint))

    _check_metrics(loaded, add)
    _check_data(loaded, add)
    _check_models(loaded, add)
    _check_context(loaded, add)
    _check_documents(loaded, add)
    _check_reward_model(loaded, add)
    if not problems:  # the spec itself is sound: now check it against the real base model (modelcheck.py)
        from ftspec.compiler.modelcheck import model_problems

        problems += model_problems(loaded)
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
        problem = threshold_problem(metric)
        if problem:
            add((*here, "threshold"), *problem)
        _check_criterion(spec, metric, info, here, add)


def _check_criterion(spec, metric, info, here, add) -> None:
    """human_rating and human_pass_rate name a criterion of review.rubric with a fitting scale."""
    if info.needs != "criterion":
        return
    scales = {c.name: c.scale for c in spec.review.rubric}
    wanted = "pass_fail" if metric.name == "human_pass_rate" else "a numeric scale"
    if metric.criterion is None:
        add(here, f"`{metric.name}` needs a `criterion`",
            f"add `criterion: NAME`, a review.rubric criterion on {wanted}")
    elif metric.criterion not in scales:
        add((*here, "criterion"), f"`{metric.criterion}` is not a review.rubric criterion",
            f"one of: {', '.join(scales) or 'none (add review.rubric)'}")
    elif (scales[metric.criterion] == "pass_fail") != (metric.name == "human_pass_rate"):
        add((*here, "criterion"), f"`{metric.criterion}` is rated {scales[metric.criterion]}; `{metric.name}` needs "
            f"{wanted}", "use human_pass_rate for pass_fail criteria and human_rating for the others")


def threshold_problem(metric) -> tuple[str, str] | None:
    """(message, hint) when a threshold contradicts its metric's declaration: a foreign unit, the wrong direction,
    or a value outside the metric's range (a gate that can never pass, or always passes)."""
    declared, t = METRICS[metric.name], metric.threshold
    return _unit_problem(declared, t) or _direction_problem(declared, t, metric.vs_baseline) \
        or _range_problem(declared, t, metric.vs_baseline)


def _unit_problem(declared, t) -> tuple[str, str] | None:
    name = f"`{declared.name}`"
    if t.unit == "%" and not declared.share:
        if declared.unit == "ms":
            return f"{name} is in milliseconds, not a percentage", f"write e.g. '{t.op} 300' (ms) or '{t.op} 0.3 s'"
        scale = f"on a {declared.low:g}-{declared.high:g} scale" if declared.span else "a plain number"
        return f"{name} is {scale}, not a percentage", f"write the number itself, e.g. '{t.op} {t.value * 100:g}'"
    if t.unit == "ms" and declared.unit != "ms":
        return f"{name} is not a time, so a time unit means nothing for it", "write a bare number"
    return None


def _direction_problem(declared, t, vs_baseline) -> tuple[str, str] | None:
    if t.op == "==":
        return None
    flipped = {">=": "<=", ">": "<", "<=": ">=", "<": ">"}[t.op]
    if vs_baseline:  # a margin is the improvement over the baseline: positive is better for every metric
        if t.higher_is_better:
            return None
        return (f"`{t}` caps the improvement over {vs_baseline}: a margin is positive when the fine-tuned model is "
                "better, for every metric", f"write '>= {-t.value:g}' to allow a loss of at most {abs(t.value):g}")
    if t.higher_is_better == declared.higher_is_better:
        return None
    better = "higher" if declared.higher_is_better else "lower"
    unit = " (latency is in milliseconds)" if declared.unit == "ms" else ""
    return (f"`{declared.name}` is {better}-is-better, so `{t}` gates in the wrong direction",
            f"write '{flipped} {t.value:g}'{unit}")


def _range_problem(declared, t, vs_baseline) -> tuple[str, str] | None:
    if vs_baseline:
        span = declared.span
        if span is None or abs(t.value) <= span:
            return None
        return (f"a margin of {t.value:g} is impossible: `{declared.name}` spans {declared.range_text()}, so two "
                f"models differ by at most {span:g}", f"write a margin between {-span:g} and {span:g}")
    low, high = declared.low, declared.high
    if (low is None or t.value >= low) and (high is None or t.value <= high):
        return None
    above = high is not None and t.value > high
    never = "never pass" if t.op == "==" or above == t.higher_is_better else "never fail"
    return (f"{t.value:g} is outside `{declared.name}`'s range {declared.range_text()}: the gate can {never}",
            f"write a threshold within {declared.range_text()}")


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


def model_context_window(loaded: LoadedSpec, model) -> int | None:
    """A candidate's context window in tokens: the spec's `context_window`, else its config.json's
    max_position_embeddings (n_positions, max_sequence_length), else unknown."""
    if model.context_window is not None:
        return model.context_window
    if model.path is None:
        return None
    import json

    try:
        config = json.loads((loaded.resolve(model.path) / "config.json").read_text(encoding="utf-8"))
        config = config.get("text_config", config)
        context = next(config[k] for k in ("max_position_embeddings", "n_positions", "max_sequence_length")
                       if isinstance(config.get(k), int) and not isinstance(config.get(k), bool))
    except (OSError, ValueError, AttributeError, StopIteration):
        return None  # no readable config: nothing to compare with
    return context if context > 0 else None


def _check_context(loaded: LoadedSpec, add) -> None:
    """A max_seq_length past a candidate's context window trains on positions the model has never seen; answers of
    max_new_tokens that fill the whole window leave no room for the prompt."""
    seq = loaded.spec.training.max_seq_length
    new_tokens = loaded.spec.evaluation.generation.max_new_tokens
    contexts = [(model.name, model_context_window(loaded, model)) for model in loaded.spec.models]
    known = [(name, context) for name, context in contexts if context is not None]
    too_short = next(((n, c) for n, c in known if seq is not None and seq > c), None)
    if too_short:
        name, context = too_short
        add(("training", "max_seq_length"),
            f"max_seq_length {seq:,} is past `{name}`'s context window of {context:,} tokens",
            f"use {context:,} or less (the model has no positions beyond it), or drop the candidate")
    no_room = next(((n, c) for n, c in known if new_tokens >= c), None)
    if no_room:
        name, context = no_room
        add(("evaluation", "generation", "max_new_tokens"),
            f"max_new_tokens {new_tokens:,} fills `{name}`'s whole context window of {context:,} tokens",
            f"use well under {context:,}: the prompt and the answer share the window")


def _check_documents(loaded: LoadedSpec, add) -> None:
    """data.documents: each a file (.txt, .md, .jsonl) or a folder of them, relative to the spec."""
    for i, relative in enumerate(loaded.spec.data.documents or []):
        if not loaded.resolve(relative).exists():
            add(("data", "documents", i), f"no such file or folder: {relative}",
                f"paths are relative to the spec's folder ({loaded.root})")


def _check_reward_model(loaded: LoadedSpec, add) -> None:
    """`method: grpo` samples answers and scores them with a trained reward model: it must be named and exist."""
    path = loaded.spec.training.reward_model
    if loaded.spec.method == "grpo" and path is None:
        add(("method",), "`grpo` needs a reward model to score the sampled answers",
            "train one with `method: reward_model`, then set training.reward_model to its run's model/ folder")
    elif path is not None and not (loaded.resolve(path) / "config.json").is_file():
        add(("training", "reward_model"), f"no trained model at {path} (no config.json)",
            "point it at a reward_model run's model/ folder, relative to the spec")
