"""The methods table (compiler/methods.py): the first wave's methods read from it unchanged, and a new objective
(one table entry and one partial, added here by the test alone) is selectable in a spec, memory-estimated with its
own terms, rendered into train.py and listed by `ftspec explain`."""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import pytest

from ftspec.compiler import methods
from ftspec.compiler.build import render_project
from ftspec.compiler.methods import ADAPTERS, Objective, Setting, candidates, resolve, spec_methods
from ftspec.compiler.pipeline import check_project
from ftspec.errors import SpecError
from tests.conftest import DEMO_SPEC

TOY_PARTIAL = """\
{% macro constants() %}
TOY_TEMPERATURE = {{ hp.toy_temperature | literal }}
{% endmacro %}
{% macro dataset() %}


def to_dataset(rows, tokenizer, fmt):
    return Dataset.from_list([{"prompt": build_prompt(row, tokenizer, fmt), "completion": target_text(row)}
                              for row in rows])


def trained_prompt_ids(dataset, index):
    return dataset[index]["prompt_ids"]
{%- endmacro %}
{% macro config() %}
    return ToyConfig(temperature=TOY_TEMPERATURE, **options)
{%- endmacro %}
"""


@pytest.fixture
def toy(tmp_path, monkeypatch):
    """A toy objective: one table entry and one partial in a folder of its own. The table is restored after."""
    monkeypatch.setattr(methods, "OBJECTIVES", dict(methods.OBJECTIVES))
    folder = tmp_path / "toy-templates"
    (folder / "objectives").mkdir(parents=True)
    (folder / "objectives" / "toy.py.j2").write_text(TOY_PARTIAL, encoding="utf-8")
    return methods.register(Objective(
        name="toy", title="toy", trainer="ToyTrainer", config="ToyConfig", formats=("prompt_completion",),
        data_label="prompt and completion rows", learning_rates={key: (3e-4, "the toy's rate") for key in ADAPTERS},
        warmup_ratio=0.05, description="a toy objective with TRL's ToyTrainer",
        settings=(Setting("toy_temperature", 0.7, "the toy's default temperature"),),
        reward_model=True, template_dir=folder))


def demo_copy(root: Path, method: str, data_format: str | None = None) -> Path:
    """The demo project with another `method:` (and data format), beside the demo model."""
    shutil.copytree(DEMO_SPEC.parent / "data", root / "data")
    (root / "models").mkdir()
    (root / "models" / "tiny-llama").symlink_to((DEMO_SPEC.parent / "models" / "tiny-llama").resolve())
    text = DEMO_SPEC.read_text(encoding="utf-8").replace("\nmethod: full\n", f"\nmethod: {method}\n")
    if data_format:
        text = text.replace("format: prompt_completion", f"format: {data_format}")
    (root / "project.yaml").write_text(text, encoding="utf-8")
    return root / "project.yaml"


def test_the_first_waves_methods_come_from_the_table():
    assert spec_methods()[:5] == ("auto", "full", "lora", "qlora", "dpo")  # later objectives come after (issue 17)
    assert [m.label for m in candidates("reward_model", "preference")] == ["reward_model (all weights)"]
    assert [m.label for m in candidates("auto", "instruction")] == ["full", "lora", "qlora"]
    assert [m.label for m in candidates("auto", "preference")] == ["dpo (lora)", "dpo (qlora)", "dpo (all weights)"]
    assert [m.label for m in candidates("dpo", "preference")] == ["dpo (lora)", "dpo (qlora)"]
    assert [(m.plan_method, m.plan_adapter) for m in candidates("qlora", "preference")] == [("dpo", "qlora")]
    assert [(m.plan_method, m.plan_adapter) for m in candidates("full", "chat")] == [("full", None)]
    assert resolve("qlora").adapter.quantized and resolve("dpo", "lora").objective.trainer == "DPOTrainer"
    assert not resolve("dpo").adapter.peft


def test_a_toy_objective_is_selectable_estimated_rendered_and_explained(toy, tmp_path, demo_model_dir, monkeypatch):
    spec = demo_copy(tmp_path / "project", "toy")
    result = check_project(spec)
    plan = result.plan
    assert (plan.method, plan.adapter) == ("toy", "lora")
    assert plan.training_method.objective is toy
    # its memory terms: a reward model the size of the policy beside each candidate
    assert all(c.breakdown["reward"] > 0 for c in plan.candidates)
    hp = plan.hyperparameters
    assert (hp.warmup_ratio, hp.model_dump()["toy_temperature"]) == (0.05, 0.7)  # the demo sets the rate itself
    assert hp.reasons["toy_temperature"] == "the toy's default temperature"

    train = render_project(result, tmp_path / "project" / "build").files["train.py"]
    compile(train, "train.py", "exec")
    assert "from trl import ToyConfig, ToyTrainer" in train and "trainer = ToyTrainer(" in train
    assert "TOY_TEMPERATURE = 0.7" in train and "return ToyConfig(temperature=TOY_TEMPERATURE" in train
    assert "Fine-tune the base model: toy (TRL ToyTrainer), LoRA adapter." in train

    from ftspec.cli import main

    monkeypatch.setenv("COLUMNS", "220")
    with contextlib.redirect_stdout(io.StringIO()) as out:
        assert main(["explain", str(spec)]) == 0
    listed = [line for line in out.getvalue().splitlines() if "ToyTrainer" in line]
    assert len(listed) == 1 and "toy (chosen)" in listed[0] and "reward model" in listed[0]
    assert "method: toy" in listed[0]


def test_a_toy_objective_on_data_it_cannot_train_on_is_a_located_error(toy, tmp_path, demo_model_dir):
    spec = demo_copy(tmp_path / "project", "toy", data_format="instruction")
    with pytest.raises(SpecError) as caught:
        check_project(spec)
    text = "\n".join(caught.value.lines())
    assert "toy trains on prompt and completion rows, but data.format is instruction" in text
    assert "project.yaml:" in text and "set data.format: prompt_completion with prompt/completion rows" in text


def test_an_unknown_method_names_the_registered_ones(tmp_path, demo_model_dir):
    spec = demo_copy(tmp_path / "project", "dpoo")
    with pytest.raises(SpecError) as caught:
        check_project(spec)
    assert "did you mean `dpo`?" in "\n".join(caught.value.lines())


def test_a_method_key_cannot_be_registered_twice():
    with pytest.raises(ValueError):
        methods.register(methods.OBJECTIVES["dpo"].__class__(**{**methods.OBJECTIVES["dpo"].__dict__, "name": "lora"}))
