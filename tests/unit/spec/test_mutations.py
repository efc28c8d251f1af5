"""Random mutations of a valid spec never produce a traceback: exit 0 or 2, with a message, always."""

from __future__ import annotations

import copy
import io
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from tests.invoke import invoke

VALID = """\
ftspec: 1
name: mutant
requirements:
  objective: Turn orders into JSON.
  use_cases: [orders]
  needs: [strict_format]
  tried: [{approach: few_shot_prompting, scores: {exact_match: 0.5}}]
  constraints: {gpu_memory_gb: 24, gpus: 1}
metrics:
  - {name: exact_match, threshold: ">= 0.9"}
  - {name: exact_match, vs_baseline: base_few_shot, threshold: ">= +0.1"}
data:
  format: prompt_completion
  train: data/train.jsonl
  eval: data/eval.jsonl
  quality: {min_examples: 1}
models:
  - {name: m, hub: org/m, params: 1B}
training: {learning_rate: auto, epochs: 2, lora: {r: 8}}
evaluation: {baselines: [{name: base_zero_shot}, {name: base_few_shot, k: 2}]}
"""

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                    st.text(max_size=12), st.sampled_from(["auto", ">= 0.9", "7B", "", "lora", "chat", "-1"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=6)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


def _mutate(data: dict, path: tuple, action: str, value, new_key: str) -> dict:
    data = copy.deepcopy(data)
    if not path:
        return value if action == "replace" else data
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "replace":
        parent[last] = value
    elif action == "delete":
        del parent[last]
    elif action == "rename" and isinstance(parent, dict):
        parent[new_key] = parent.pop(last)
    return data


def _dump(data) -> str:
    stream = io.StringIO()
    YAML(typ="safe").dump(data, stream)
    return stream.getvalue()


def _check(tmp: Path, text: str | bytes) -> None:
    spec = tmp / "project.yaml"
    spec.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
    result = invoke(["check", str(spec)])
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output and "internal error" not in result.output


def _project(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("mutant")
    (tmp / "data").mkdir()
    (tmp / "data" / "train.jsonl").write_text('{"prompt": "one red shirt please", "completion": "{}"}\n')
    (tmp / "data" / "eval.jsonl").write_text('{"prompt": "could I get four blue mugs", "completion": "[]"}\n')
    return tmp


BASE = YAML(typ="safe").load(VALID)
ALL_PATHS = list(_paths(BASE))


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(path=st.sampled_from(ALL_PATHS), action=st.sampled_from(["replace", "delete", "rename"]), value=values,
       new_key=st.text(min_size=1, max_size=10))
def test_structural_mutations_never_crash(tmp_path_factory, path, action, value, new_key):
    _check(_project(tmp_path_factory), _dump(_mutate(BASE, path, action, value, new_key)))


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(position=st.integers(0, len(VALID)), junk=st.text(max_size=6), cut=st.booleans())
def test_textual_mutations_never_crash(tmp_path_factory, position, junk, cut):
    text = VALID[:position] if cut else VALID[:position] + junk + VALID[position:]
    _check(_project(tmp_path_factory), text)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(position=st.integers(0, len(VALID)), junk=st.binary(min_size=1, max_size=4))
@example(position=1, junk=b"[")  # `f[tspec`: an unknown key that looked like a pydantic union label (a crash once)
def test_byte_mutations_never_crash(tmp_path_factory, position, junk):
    raw = VALID.encode()
    _check(_project(tmp_path_factory), raw[:position] + junk + raw[position:])


def test_the_unmutated_spec_passes(tmp_path_factory):
    tmp = _project(tmp_path_factory)
    (tmp / "project.yaml").write_text(VALID)
    result = invoke(["check", str(tmp / "project.yaml")])
    assert result.exit_code == 0, result.output
