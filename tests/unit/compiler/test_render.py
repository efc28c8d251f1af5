"""render_build: every method and prompt kind renders scripts that compile, pass ruff and import no ftspec."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest
from ruamel.yaml import YAML

from ftspec.compiler.render import LiteralError, make_environment, prompt_format, python_literal, render_build

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "golden"))
from golden_plans import METHODS, make_paths, make_plan  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
CASES = [(method, kind) for method in METHODS for kind in ("chat_template", "template")]


def render(method="lora", **options):
    plan = make_plan(method, **options)
    return render_build(plan, make_paths(plan))


@pytest.mark.parametrize("value", [None, True, 0, -3, 2.5e-4, "", "a'b\"c", "x\n\"\"\"y", "\x00\u2028",
                                   [1, "two", None], {"k": ["v", 1.5], "n": {"deep": False}}])
def test_literal_evaluates_back_to_the_value(value):
    assert ast.literal_eval(python_literal(value)) == value


@pytest.mark.parametrize("value", [float("nan"), float("inf"), object(), {1, 2}])
def test_literal_refuses_what_is_not_plain_data(value):
    with pytest.raises(LiteralError):
        python_literal(value)


@pytest.mark.parametrize("source", ["X = {{ missing | literal }}", "X = {{ plan.nothing | literal }}",
                                    "X = {{ missing | json }}"])
def test_literal_refuses_undefined(source):
    template = make_environment().from_string(source)
    with pytest.raises(jinja2.TemplateError):
        template.render(plan=make_plan())


def test_an_undefined_name_outside_the_filter_fails_too():
    with pytest.raises(jinja2.UndefinedError):
        make_environment().from_string("{{ missing }}").render()


@pytest.mark.parametrize("method,kind", CASES)
def test_scripts_compile_and_import_nothing_from_ftspec(method, kind):
    files = render(method, kind=kind)
    for name in ("train.py", "eval.py"):
        tree = ast.parse(files[name])
        compile(tree, name, "exec")
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not any(module.split(".")[0] == "ftspec" for module in imported), name


def test_the_method_picks_the_trainer_and_the_adapter():
    lora, qlora, full, dpo = (render(m)["train.py"] for m in ("lora", "qlora", "full", "dpo"))
    assert "SFTTrainer(" in lora and "peft_config=lora_config()" in lora and "BitsAndBytesConfig" not in lora
    assert 'bnb_4bit_quant_type="nf4"' in qlora and "peft_config=lora_config()" in qlora
    assert "peft_config" not in full and "LoraConfig" not in full
    assert "DPOTrainer(" in dpo and "DPOConfig(beta=DPO_BETA" in dpo


@pytest.mark.parametrize("method,kind", CASES)
def test_rendered_scripts_pass_ruff(tmp_path, method, kind):
    for name, text in render(method, kind=kind).items():
        (tmp_path / name).write_text(text)
    ruff = Path(sys.executable).parent / "ruff"
    done = subprocess.run([str(ruff), "check", "--no-cache", "--config", str(REPO / "pyproject.toml"),
                           str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_render_is_byte_identical():
    assert render("qlora") == render("qlora")


def test_trust_remote_code_only_where_the_model_sets_it():
    plan = make_plan("lora")
    assert "TRUST_REMOTE_CODE = False" in render_build(plan, make_paths(plan))["train.py"]
    plan.model.trust_remote_code = True
    files = render_build(plan, make_paths(plan))
    assert "TRUST_REMOTE_CODE = True" in files["train.py"] and "TRUST_REMOTE_CODE = True" in files["eval.py"]


@pytest.mark.parametrize("mode,processes,machines,expected", [
    ("single", 1, 1, "NO"), ("ddp", 8, 1, "MULTI_GPU"), ("fsdp", 8, 1, "FSDP"), ("deepspeed", 16, 2, "DEEPSPEED")])
def test_accelerate_config_follows_the_plan(mode, processes, machines, expected):
    config = YAML(typ="safe").load(render(mode=mode, processes=processes, machines=machines)["accelerate.yaml"])
    assert config["distributed_type"] == expected
    assert (config["num_processes"], config["num_machines"], config["machine_rank"]) == (processes, machines, 0)
    assert ("fsdp_config" in config) == (mode == "fsdp")
    assert ("deepspeed_config" in config) == (mode == "deepspeed")
    assert ("main_process_ip" in config) == (machines > 1)
    assert config["use_cpu"] is False


def test_accelerate_config_on_cpu():
    config = YAML(typ="safe").load(render(mode="ddp", processes=2, use_cpu=True)["accelerate.yaml"])
    assert config["use_cpu"] is True and config["mixed_precision"] == "no"


def test_tracking_reaches_report_to():
    assert 'TRACKING = "wandb"' in render(tracking="wandb")["train.py"].replace("'", '"')


def test_prompt_format_is_one_file_both_scripts_read():
    files = render(kind="template", template="Q: {prompt}\nA:\n", system_prompt="Be brief.")
    fmt = json.loads(files["prompt_format.json"])
    assert fmt == prompt_format(make_plan(kind="template", template="Q: {prompt}\nA:\n", system_prompt="Be brief."))
    assert fmt["kind"] == "template" and fmt["template"] == "Q: {prompt}\nA:\n" and fmt["add_special_tokens"]
    for name in ("train.py", "eval.py"):
        assert 'PROMPT_FORMAT_FILE = HERE / "prompt_format.json"' in files[name]
    chat = json.loads(render(kind="chat_template")["prompt_format.json"])
    assert chat["kind"] == "chat_template" and chat["template"] is None and not chat["add_special_tokens"]


def test_both_scripts_share_the_prompt_functions_verbatim():
    files = render(kind="template")

    def functions(source):
        tree = ast.parse(source)
        return {node.name: ast.unparse(node) for node in tree.body if isinstance(node, ast.FunctionDef)}

    train, evaluate = functions(files["train.py"]), functions(files["eval.py"])
    for name in ("build_prompt", "completion_text", "encode_prompt", "encode_example", "split_train_eval",
                 "fill_template", "prompt_messages", "target_text"):
        assert train[name] == evaluate[name], name
