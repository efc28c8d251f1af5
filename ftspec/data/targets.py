"""format_mismatch: targets that contradict a gated metric (json_valid, json_schema, regex, contains)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ftspec.metrics import METRICS
from ftspec.spec.load import LoadedSpec


@dataclass(frozen=True)
class TargetRule:
    metric: str
    slice: str  # all, adversarial, regression, or a tag
    test: Callable[[str], str | None]  # the reason a target breaks the rule, or None

    def applies(self, split: str, tags: object) -> bool:
        if self.slice == "all":
            return True
        if self.slice in ("adversarial", "regression"):
            return split == self.slice
        return isinstance(tags, list) and self.slice in tags


def target_rules(loaded: LoadedSpec) -> tuple[list[TargetRule], list[str]]:
    """The rules the gated metrics imply, and the metrics that could not be turned into one (with why)."""
    rules, problems, seen = [], [], set()
    for metric in loaded.spec.metrics:
        schema = metric.schema_ if not isinstance(metric.schema_, dict) else json.dumps(metric.schema_, sort_keys=True)
        key = (metric.name, metric.slice, metric.pattern, schema)
        builder = METRICS[metric.name].target_builder()  # the metric's declaration names its rule, if any
        if key in seen or builder is None:
            continue
        seen.add(key)
        try:
            rules.append(TargetRule(metric.name, metric.slice, builder(metric, loaded)))
        except (OSError, ValueError, re.error) as exc:
            problems.append(f"{metric.name}: {exc}")
    return rules, problems


def json_valid_rule(metric, loaded) -> Callable[[str], str | None]:
    def test(target: str) -> str | None:
        try:
            json.loads(target)
        except ValueError as exc:
            return f"not valid JSON ({exc.msg if isinstance(exc, json.JSONDecodeError) else exc}) but json_valid " \
                   f"is gated"
        return None

    return test


def json_schema_rule(metric, loaded) -> Callable[[str], str | None]:
    import jsonschema  # ~0.14 s: only when a json_schema metric is gated

    schema = metric.schema_
    if isinstance(schema, str):
        schema = json.loads(Path(loaded.resolve(schema)).read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    try:
        validator_class.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise ValueError(f"the schema itself is invalid: {exc.message}") from None
    validator = validator_class(schema)

    def test(target: str) -> str | None:
        try:
            value = json.loads(target)
        except ValueError:
            return "not valid JSON, so it cannot match the json_schema metric's schema"
        error = jsonschema.exceptions.best_match(validator.iter_errors(value))
        return None if error is None else f"does not match the schema: {error.message}"

    return test


def regex_rule(metric, loaded) -> Callable[[str], str | None]:
    pattern = re.compile(metric.pattern)

    def test(target: str) -> str | None:
        if pattern.fullmatch(target.strip()):
            return None
        return f"does not fully match the gated pattern {metric.pattern!r}"

    return test


def contains_rule(metric, loaded) -> Callable[[str], str | None]:
    needle = metric.pattern

    def test(target: str) -> str | None:
        return None if needle in target else f"does not contain {needle!r}, which the contains metric gates on"

    return test
