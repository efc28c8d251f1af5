"""The spec language as a user writes it: thresholds, parameter counts, paths, schema, defaults."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from ftspec.spec.load import load_spec
from ftspec.spec.models import parse_params
from ftspec.spec.schema import schema_json
from ftspec.spec.threshold import parse_threshold
from tests.invoke import invoke

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("raw, op, value", [
    (">= 0.9", ">=", 0.9), ("<=300", "<=", 300.0), ("> +0.05", ">", 0.05), ("< -2", "<", -2.0),
    (0.9, ">=", 0.9), (1, ">=", 1.0), ("  == 1  ", "==", 1.0), (">= 90%", ">=", 0.9), (">= 1e-3", ">=", 0.001),
])
def test_thresholds_parse(raw, op, value):
    threshold = parse_threshold(raw)
    assert (threshold.op, threshold.value) == (op, pytest.approx(value))


@pytest.mark.parametrize("raw", ["", "   ", None, ">= ", "=> 0.9", "about 0.9", ">= 0.9.1", True, [0.9],
                                 float("nan")])
def test_bad_thresholds_are_errors_never_no_threshold(raw):
    with pytest.raises(ValueError, match="threshold"):
        parse_threshold(raw)


def test_threshold_gate_semantics():
    assert parse_threshold(">= 0.9").passes(0.9)
    assert not parse_threshold(">= 0.9").passes(0.89)
    assert parse_threshold("<= 300").passes(120)
    assert not parse_threshold(">= 0").passes(float("nan"))


@pytest.mark.parametrize("raw, count", [("7B", 7e9), ("0.5b", 5e8), ("125M", 1.25e8), ("1.2M", 1.2e6), (7e9, 7e9)])
def test_param_counts(raw, count):
    assert parse_params(raw) == pytest.approx(count)


def test_paths_resolve_relative_to_the_spec(tmp_path: Path):
    project = tmp_path / "nested" / "proj"
    (project / "d").mkdir(parents=True)
    (project / "d" / "t.jsonl").write_text('{"prompt": "a", "completion": "b"}\n')
    (project / "p.yaml").write_text("ftspec: 1\nname: p\ndata: {format: prompt_completion, train: d/t.jsonl, "
                                    "holdout: 0.2}\nmodels: [{name: m, hub: o/m, params: 1B}]\n")
    loaded = load_spec(project / "p.yaml")
    assert loaded.resolve(loaded.spec.data.train[0]) == (project / "d" / "t.jsonl").resolve()
    assert loaded.spec.data.train == ["d/t.jsonl"]  # a single path is a list of one


def test_committed_schema_is_current():
    committed = (REPO / "ftspec" / "spec" / "ftspec.schema.json").read_text()
    assert committed == schema_json() + "\n", "regenerate: ftspec schema > ftspec/spec/ftspec.schema.json"


def test_every_example_spec_validates_against_the_schema_and_points_at_it():
    schema = json.loads(schema_json())
    specs = sorted(REPO.glob("specs/*/project.yaml"))
    assert specs
    for spec in specs:
        first = spec.read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), spec
        target = (spec.parent / first.split("=", 1)[1]).resolve()
        assert target == (REPO / "ftspec" / "spec" / "ftspec.schema.json"), spec
        errors = list(jsonschema.Draft202012Validator(schema).iter_errors(YAML(typ="safe").load(spec.read_text())))
        assert errors == [], (spec, errors)


def test_schema_command_prints_the_schema():
    out = subprocess.run([sys.executable, "-m", "ftspec", "schema"], capture_output=True, text=True, check=True)
    schema = json.loads(out.stdout)
    assert "exact_match" in schema["$defs"]["MetricSpec"]["properties"]["name"]["enum"]
    assert schema["additionalProperties"] is False  # unknown keys are flagged in the editor too


def test_init_scaffolds_a_project_that_passes_check(tmp_path: Path):
    created = invoke(["init", str(tmp_path / "proj")])
    assert created.exit_code == 0, created.output
    spec = tmp_path / "proj" / "project.yaml"
    assert "# " in spec.read_text()  # commented
    checked = invoke(["check", str(spec)])
    assert checked.exit_code == 0, checked.output
    again = invoke(["init", str(tmp_path / "proj")])
    assert again.exit_code == 2 and "never overwrites" in again.output
