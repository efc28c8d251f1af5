"""Load a project spec: YAML -> plain data with positions -> ProjectSpec -> cross-field checks -> LoadedSpec.

Every problem is collected and reported at once, each located at file:line:col with its dotted path.
"""

from __future__ import annotations

import hashlib
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError

from ftspec.errors import Problem, SpecError
from ftspec.spec.hints import did_you_mean, one_of
from ftspec.spec.models import ProjectSpec
from ftspec.spec.semantic import semantic_problems
from ftspec.spec.source import SourceMap, dotted, parse_yaml, read_text


@dataclass
class LoadedSpec:
    """A validated spec with where it came from: paths resolve relative to the spec's folder."""

    spec: ProjectSpec
    path: Path
    source: SourceMap
    sha256: str

    @property
    def root(self) -> Path:
        return self.path.parent

    def resolve(self, relative: str) -> Path:
        return (self.root / relative).resolve()

    def locate(self, *path: str | int):
        return self.source.locate(tuple(path))


def load_spec(path: str | Path) -> LoadedSpec:
    path = Path(path)
    text = read_text(path)
    return load_spec_text(text, path)


def load_spec_text(text: str, path: Path) -> LoadedSpec:
    file = str(path)
    data, source = parse_yaml(text, file)
    if data is None:
        raise SpecError([Problem(source.locate(()), "", "the spec is empty",
                                 "start from `ftspec init`, or add at least ftspec, name, data and models")])
    if not isinstance(data, dict):
        raise SpecError([Problem(source.locate(()), "", f"the top level is a {_yaml_type(data)}, not a mapping",
                                 "a spec is a mapping of keys such as `ftspec: 1`, `name:` and `data:`")])
    try:
        spec = ProjectSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(sorted(_problems(exc, source), key=_order)) from None
    loaded = LoadedSpec(spec, path, source, hashlib.sha256(text.encode()).hexdigest())
    problems = semantic_problems(loaded)
    if problems:
        raise SpecError(sorted(problems, key=_order))
    return loaded


def _order(problem: Problem) -> tuple:
    return (problem.location.line or 0, problem.location.col or 0, problem.path)


def _yaml_type(value: object) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(value), "value")


def _problems(exc: ValidationError, source: SourceMap) -> list[Problem]:
    by_path: dict[tuple, list[dict]] = {}
    for error in exc.errors(include_url=False):
        loc = error["loc"]
        # an unknown key is the user's own word, even where it looks like a union label (`f[tspec`)
        cleaned = _clean_loc(loc[:-1]) + loc[-1:] if error["type"] == "extra_forbidden" else _clean_loc(loc)
        by_path.setdefault(cleaned, []).append(error)
    return [_problem(_most_telling(errors), loc, source) for loc, errors in by_path.items()]


def _most_telling(errors: list[dict]) -> dict:
    """A union (`learning_rate: 0.1 | auto`) reports one miss per branch: keep the one that says most.
    A range error beats 'not the literal auto', which beats 'not a number'."""
    def rank(error: dict) -> int:
        if error["type"] == "literal_error":
            return 1
        return 2 if error["type"].endswith(("_type", "_parsing")) else 0
    return min(errors, key=rank)


_UNION_LABELS = ("float", "int", "str", "bool", "list[str]", "dict", "list", "[key]", "constrained-float",
                 "constrained-int")


def _clean_loc(loc: tuple) -> tuple:
    """Drop pydantic's labels for union branches ('float', "literal['auto']", 'function-before[...]') and keys."""
    return tuple(part for part in loc
                 if not (isinstance(part, str) and (re.match(r"^[a-z_-]+\[", part) or part in _UNION_LABELS)))


def _problem(error: dict, loc: tuple, source: SourceMap) -> Problem:
    kind, path = error["type"], dotted(loc)
    on_key = "[key]" in error["loc"]  # a bad mapping key, such as an unknown metric under tried.scores
    if kind == "extra_forbidden":
        allowed = _field_names(loc[:-1])
        hint = did_you_mean(str(loc[-1]), allowed) or (one_of(allowed) if allowed else None)
        return Problem(source.locate(loc, key=True), path, f"unknown key `{loc[-1]}`", hint)
    if kind == "missing":
        where = source.locate(loc[:-1], key=True) if len(loc) > 1 else source.locate(())
        return Problem(where, path, f"`{loc[-1]}` is required", _missing_hint(loc))
    if kind in ("literal_error", "enum"):
        expected = str(error.get("ctx", {}).get("expected", ""))
        allowed = [part.strip().strip("'") for part in re.split(r", | or ", expected) if part.strip()]
        value = error.get("input")
        hint = did_you_mean(str(value), allowed) or one_of(allowed)
        return Problem(source.locate(loc), path, f"{value!r} is not allowed here", hint)
    if kind == "value_error":
        message = str(error.get("ctx", {}).get("error", error["msg"]))
        text, _, hint = message.partition("; ")
        return Problem(source.locate(loc, key=on_key), path, text, hint or None)
    if kind == "string_pattern_mismatch" and loc == ("name",):
        return Problem(source.locate(loc), path, f"{error['input']!r} is not a valid project name",
                       "use letters, digits, '.', '_' or '-', starting with a letter or digit")
    message = error["msg"]
    if "input" in error and not isinstance(error["input"], (dict, list)):
        message = f"{message}, got {error['input']!r}"
    return Problem(source.locate(loc), path, message[0].lower() + message[1:], _type_hint(error))


_TYPE_HINTS = {
    "int_parsing": "write a whole number, such as 2", "int_type": "write a whole number, such as 2",
    "int_from_float": "write a whole number, such as 2", "float_parsing": "write a number, such as 0.5",
    "float_type": "write a number, such as 0.5", "bool_parsing": "write true or false",
    "bool_type": "write true or false", "string_type": "write text; quote it if it looks like a number",
    "list_type": "write a list: `[a, b]` or one `- item` per line",
    "dict_type": "write a mapping: one `key: value` per line",
    "model_type": "write a mapping: one `key: value` per line",
    "too_short": "add at least one item",
}
_BOUND_HINTS = {"greater_than": "use a value above {gt}", "greater_than_equal": "use {ge} or more",
                "less_than": "use a value below {lt}", "less_than_equal": "use {le} or less"}


def _type_hint(error: dict) -> str | None:
    if error["type"] in _BOUND_HINTS:
        return _BOUND_HINTS[error["type"]].format(**error.get("ctx", {}))
    return _TYPE_HINTS.get(error["type"])


def _missing_hint(loc: tuple) -> str | None:
    hints = {"ftspec": "add `ftspec: 1` at the top", "threshold": "add a threshold such as `threshold: \">= 0.9\"`",
             "data": "add a `data:` section with at least `format` and `train`",
             "models": "add `models:` with at least one candidate, `{name: ..., path: ...}` or `{hub: ...}`",
             "format": "add `format:` — instruction, prompt_completion, chat or preference"}
    return hints.get(str(loc[-1]))


def _field_names(loc: tuple) -> list[str]:
    """The keys allowed at a place in the spec, found by walking the model classes along the path."""
    model: object = ProjectSpec
    for part in loc:
        model = _descend(model, part)
        if model is None:
            return []
    model = _unwrap_model(model)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [f.alias or name for name, f in model.model_fields.items()]
    return []


def _descend(model: object, part: str | int) -> object | None:
    model = _unwrap_model(model)
    if isinstance(part, int):
        args = [a for a in typing.get_args(model) if a is not type(None)]
        return args[0] if args else None
    if isinstance(model, type) and issubclass(model, BaseModel):
        for name, field in model.model_fields.items():
            if part in (name, field.alias):
                return field.annotation
    return None


def _unwrap_model(tp: object) -> object:
    """Annotated[X], Optional[X], X | bool -> the BaseModel or list inside, where there is one."""
    for _ in range(5):
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            candidates = [a for a in typing.get_args(tp)
                          if (isinstance(a, type) and issubclass(a, BaseModel)) or typing.get_origin(a) is list]
            if not candidates:
                return tp
            tp = candidates[0]
        else:
            return tp
    return tp
