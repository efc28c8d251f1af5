"""Every example spec under specs/ shows a decision in `ftspec check`, and `ftspec explain` prints the reasoning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftspec.compiler.report import APPROACH_TITLES
from ftspec.spec.load import load_spec
from tests.conftest import models_for
from tests.invoke import invoke

pytestmark = pytest.mark.usefixtures("example_models")  # specs/flan-t5-local needs its model
SPECS = Path(__file__).resolve().parents[3] / "specs"
EXAMPLES = sorted(SPECS.glob("*/project.yaml"))
EXPECTED = {  # the examples written to show one row of the matrix each: (approach, method, adapter)
    "support-faq": ("rag", None, None),
    "clinical-notes": ("fine_tuning", "qlora", None),
    "support-tone-dpo": ("fine_tuning", "dpo", "lora"),
}
UNMET = {"support-faq": ["baseline"]}  # nothing tried or measured yet: `ftspec baseline` comes first


@pytest.mark.parametrize("spec", EXAMPLES, ids=[p.parent.name for p in EXAMPLES])
def test_check_shows_a_decision(spec, request):
    models_for(spec, request)
    result = invoke(["check", str(spec)])
    blocked = UNMET.get(spec.parent.name)  # check's exit agrees with build: 2 while a blocking prerequisite is unmet
    assert result.exit_code == (2 if blocked else 0), result.output
    for name in blocked or []:
        assert f"blocking: {name}:" in result.output
    assert "decision:" in result.output
    body = json.loads(invoke(["check", str(spec), "--json"]).output)
    assert f"decision: {APPROACH_TITLES[body['decision']['approach']]}" in result.output
    for candidate in body["plan"]["candidates"]:
        assert candidate["name"] in result.output
    models = len(load_spec(spec).spec.models)
    assert f"{models} candidate model{'' if models == 1 else 's'})" in result.output.splitlines()[0]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_lands_on_its_matrix_row(name):
    body = json.loads(invoke(["check", str(SPECS / name / "project.yaml"), "--json"]).output)
    approach, method, adapter = EXPECTED[name]
    assert (body["decision"]["approach"], body["plan"]["method"], body["plan"]["adapter"]) == \
        (approach, method, adapter)
    unmet = [p["name"] for p in body["decision"]["prerequisites"] if p["blocking"] and not p["met"]]
    assert unmet == UNMET.get(name, [])


def test_explain_prints_reasons_memory_and_settings():
    result = invoke(["explain", str(SPECS / "clinical-notes" / "project.yaml")])
    assert result.exit_code == 0, result.output
    for heading in ("Why", "Prerequisites", "Memory per candidate", "Training settings"):
        assert heading in result.output
    assert "project.yaml:" in result.output  # reasons point at spec lines
