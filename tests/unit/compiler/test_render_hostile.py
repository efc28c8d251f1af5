"""No spec string can add code to a generated script: every one enters through the `literal` filter."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from ftspec.compiler.plan import Plan
from ftspec.compiler.render import ScriptPaths, render_build

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "golden"))
from golden_plans import METHODS, make_plan  # noqa: E402

HOSTILE = ['"', "'", '"""', "'''", "\n", "\\", "{{ plan }}", "{% raw %}", "{#", "}}",
           "__import__('os').system('touch /tmp/pwned')", '"); import os; os.system("id"); ("',
           "\nimport os\nos.system('id')\n", '"""\nimport os\n"""', "\x00", "\u2028", "${HOME}", "# noqa"]
hostile_text = st.one_of(st.sampled_from(HOSTILE), st.lists(st.sampled_from(HOSTILE), min_size=2, max_size=4)
                         .map("".join), st.text(max_size=20))


def plan_with_strings(method: str, kind: str, text) -> tuple[Plan, ScriptPaths]:
    """A plan whose every free-text field (and every path) comes from `text()`; the structure stays fixed."""
    plan = make_plan(method, kind=kind, template=text() if kind == "template" else None, system_prompt=text(),
                     tracking=text(), project=text())
    plan.model.name, plan.model.path, plan.model.hub = text(), text(), text()
    hp = plan.hyperparameters
    hp.scheduler, hp.optimizer = text(), text()
    if hp.lora is not None:
        hp.lora.target_modules = [text(), text()]
    plan.data.fields = {text(): text(), "prompt": text()}
    paths = ScriptPaths(train=[text(), text()], eval=text(), adversarial=text(), regression=text(), model=text())
    return plan, paths


def shape(source: str) -> str:
    """The AST with every string constant blanked: what the template put there, whatever the values."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return ast.dump(tree, include_attributes=False)


@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_hostile_strings_never_add_statements(method, data):
    kind = data.draw(st.sampled_from(["chat_template", "template"]))
    benign = render_build(*plan_with_strings(method, kind, lambda: "x"))
    hostile = render_build(*plan_with_strings(method, kind, lambda: data.draw(hostile_text)))
    for name in ("train.py", "eval.py"):
        compile(hostile[name], name, "exec")
        assert shape(hostile[name]) == shape(benign[name]), name
    yaml = YAML(typ="safe")
    assert yaml.load(hostile["accelerate.yaml"]) == yaml.load(benign["accelerate.yaml"])
    assert json.loads(hostile["prompt_format.json"]).keys() == json.loads(benign["prompt_format.json"]).keys()


def test_a_hostile_value_comes_back_as_the_same_string():
    marker = "__import__('os').system('id')\n\"\"\"{{ x }}"
    plan, paths = plan_with_strings("lora", "template", lambda: marker)
    tree = ast.parse(render_build(plan, paths)["train.py"])
    assigned = {node.targets[0].id: ast.literal_eval(node.value) for node in tree.body
                if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Constant)}
    assert assigned["PROJECT"] == marker
    assert assigned["BASE_MODEL_HUB"] == marker
    assert assigned["SCHEDULER"] == marker
