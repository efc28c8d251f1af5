"""The `size` check: enough training examples, and eval sets big enough for their thresholds to mean anything."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ftspec.data.findings import RowRef
from ftspec.metrics import METRICS
from ftspec.spec.load import LoadedSpec
from ftspec.spec.source import dotted

GUIDANCE = 1000  # about a thousand clean examples: the seeds' rule of thumb


@dataclass
class SizeProblem:
    severity: str  # error | warning
    message: str
    where: RowRef


def size_problems(loaded: LoadedSpec, clean_rows: dict[str, int]) -> list[SizeProblem]:
    spec = loaded.spec
    problems = []
    train = clean_rows.get("train", 0)
    where = _spec_ref(loaded, "data", "train")
    minimum = spec.data.quality.min_examples
    if train < minimum:
        problems.append(SizeProblem("error", f"train has {train} clean rows, fewer than data.quality.min_examples "
                                             f"({minimum})", where))
    elif train < GUIDANCE:
        problems.append(SizeProblem("warning", f"train has {train} clean rows; fine-tuning guidance is about "
                                               f"{GUIDANCE:,} clean examples (quality over quantity)", where))
    for i, metric in enumerate(spec.metrics):
        problem = _eval_too_small(loaded, i, metric, clean_rows)
        if problem:
            problems.append(problem)
    return problems


def _eval_too_small(loaded: LoadedSpec, index: int, metric, clean_rows: dict[str, int]) -> SizeProblem | None:
    """Binomial argument: even if every one of n examples passes, the one-sided lower confidence bound on the
    true rate is (1 - confidence) ** (1 / n). When that is below the threshold, no result on this set can show
    the bar is met; it takes n >= ln(1 - confidence) / ln(threshold) examples (the rule of three at 95%)."""
    threshold = metric.threshold
    if not METRICS[metric.name].share or metric.vs_baseline or threshold.op not in (">=", ">"):
        return None
    if not 0 < threshold.value < 1:
        return None
    split = metric.slice if metric.slice in ("adversarial", "regression") else "eval"
    if metric.slice not in ("all", "adversarial", "regression") or split not in clean_rows:
        return None
    n = clean_rows[split]
    cap = loaded.spec.evaluation.max_examples
    n = min(n, cap) if cap else n
    confidence = loaded.spec.evaluation.confidence
    needed = math.ceil(math.log(1 - confidence) / math.log(threshold.value))
    if n >= needed:
        return None
    bound = (1 - confidence) ** (1 / n) if n else 0.0
    set_name = "the eval set" if split == "eval" else f"the {split} set"
    message = (f"{set_name} has {n} examples, too few for `{metric.name} {threshold}`: even {n}/{n} correct only "
               f"shows (at {confidence:.0%} confidence) a true rate above {bound:.3f}, so the gate cannot tell a "
               f"model that meets the bar from one that misses it; it needs at least {needed} examples")
    return SizeProblem("warning", message, _spec_ref(loaded, "metrics", index))


def _spec_ref(loaded: LoadedSpec, *path) -> RowRef:
    location = loaded.locate(*path)
    return RowRef(file=location.file, line=location.line or 1, note=dotted(path))
