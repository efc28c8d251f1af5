"""`check` against the real base model (tiny zoo models of each family): what used to crash `run` is now a located
error or a note at `check`, and the scripts' shared helpers handle each family's tokens and template."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import pytest

from ftspec.compiler.build import script_paths, write_build
from ftspec.compiler.memory import dims_from_config, lora_params
from ftspec.compiler.pipeline import check_project
from ftspec.compiler.render import make_environment
from ftspec.errors import SpecError
from tests.functional.zoo_project import zoo_project


def common_helpers(spec: Path) -> dict:
    """The generated scripts' shared helpers (_common.py.j2) as the build renders them, loaded without torch."""
    result = check_project(spec)
    folder = spec.parent / "build"
    write_build(spec, folder)
    paths = script_paths(result, result.plan, folder)
    text = make_environment().get_template("_common.py.j2").render(plan=result.plan, paths=asdict(paths),
                                                                    hp=result.plan.hyperparameters)
    namespace = {"__file__": str(folder / "probe.py")}
    exec("import csv, json, re, zlib\nfrom pathlib import Path\n" + text, namespace)  # noqa: S102 - our own render
    return namespace


def tokenizer_of(model_dir: Path):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def learned_ids(helpers: dict, model_dir: Path, row: dict) -> list[int]:
    tokenizer, fmt = tokenizer_of(model_dir), helpers["load_prompt_format"]()
    prompt = helpers["build_prompt"](row, tokenizer, fmt)
    ids, mask = helpers["encode_example"](tokenizer, prompt, helpers["completion_text"](row, tokenizer, fmt, prompt),
                                          fmt)
    return [i for i, learned in zip(ids, mask, strict=True) if learned]


ROW = {"prompt": "Two red mugs, please.", "completion": '{"item": "mug", "colour": "red", "quantity": 2}'}


def test_a_t5_config_is_read_without_params(tmp_path, zoo_model):
    model = zoo_model("t5")
    result = check_project(zoo_project(tmp_path, "t5", model))
    config = json.loads((model / "config.json").read_text())
    assert result.plan.model.is_encoder_decoder
    assert result.plan.model.params == dims_from_config(config).params
    assert not any("no config.json" in r.text for r in result.plan.decision.reasons)


def test_lora_targets_the_model_lacks_are_a_located_error(tmp_path, zoo_model):
    spec = zoo_project(tmp_path, "gpt2", zoo_model("gpt2"), extra="  lora: {target_modules: [q_proj, c_attn]}\n")
    with pytest.raises(SpecError) as caught:
        check_project(spec)
    [problem] = caught.value.problems
    assert problem.path == "training.lora.target_modules[0]"
    assert "`q_proj`" in problem.message and "c_attn" in problem.hint
    assert problem.location.line == spec.read_text().splitlines().index(
        "  lora: {target_modules: [q_proj, c_attn]}") + 1


def test_dpo_on_an_encoder_decoder_is_refused_at_check(tmp_path, zoo_model):
    spec = zoo_project(tmp_path, "t5", zoo_model("t5"), method="dpo", data_format="preference")
    with pytest.raises(SpecError) as caught:
        check_project(spec)
    assert [p.path for p in caught.value.problems] == ["models[0]"]
    assert "encoder-decoder" in caught.value.problems[0].message


def test_gemma_system_prompt_is_folded_into_the_first_user_turn(tmp_path, zoo_model):
    model = zoo_model("gemma2")
    spec = zoo_project(tmp_path, "gemma2", model, system_prompt="Answer in JSON.")
    plan = check_project(spec).plan
    assert plan.prompt_format.fold_system
    assert any("rejects the system role" in r.text and r.spec_path == "data.system_prompt"
               for r in plan.decision.reasons)
    helpers = common_helpers(spec)
    prompt = helpers["build_prompt"](ROW, tokenizer_of(model), helpers["load_prompt_format"]())
    assert "<start_of_turn>user\nAnswer in JSON.\n\nTwo red mugs, please." in prompt


def test_chatml_learns_its_end_token_once(tmp_path, zoo_model):
    model = zoo_model("qwen2")
    spec = zoo_project(tmp_path, "qwen2", model)
    assert any("learned once" in r.text for r in check_project(spec).plan.decision.reasons)
    tokenizer = tokenizer_of(model)
    learned = learned_ids(common_helpers(spec), model, ROW)
    assert learned.count(tokenizer.eos_token_id) == 1 and learned[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(learned).endswith(ROW["completion"] + "<|im_end|>")


@pytest.mark.parametrize("arch", ["gpt2", "mistral"])
def test_base_models_get_a_separator_and_learn_the_end_token(tmp_path, zoo_model, arch):
    model = zoo_model(arch)
    spec = zoo_project(tmp_path, arch, model)
    helpers = common_helpers(spec)
    tokenizer, fmt = tokenizer_of(model), helpers["load_prompt_format"]()
    prompt = helpers["build_prompt"](ROW, tokenizer, fmt)
    assert prompt.startswith(ROW["prompt"]) and prompt != ROW["prompt"] and prompt.endswith("\n")
    learned = learned_ids(helpers, model, ROW)
    assert learned[-1] == tokenizer.eos_token_id
    shots = helpers["build_prompt"](ROW, tokenizer, fmt, shots=[ROW])  # few-shot: the same format, end token too
    assert shots == f"{prompt}{ROW['completion']}{tokenizer.eos_token}\n\n{prompt}"


def test_generation_is_capped_at_the_context(tmp_path, zoo_model):
    import torch
    from transformers import AutoModelForCausalLM

    model_dir = zoo_model("gpt2")
    helpers = common_helpers(zoo_project(tmp_path, "gpt2", model_dir))
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    context = model.config.n_positions
    for length in (context - 10, context + 30):  # room for a short answer; a prompt past the context itself
        prompts, budget = helpers["fit_to_context"](model, [[5] * length], 64)
        output = model.generate(torch.tensor(prompts), max_new_tokens=budget, do_sample=False,
                                pad_token_id=model.config.eos_token_id)
        assert output.shape[1] <= context and budget >= 1


def test_a_hub_model_is_read_from_the_hugging_face_cache_offline(tmp_path, zoo_model, monkeypatch):
    model = zoo_model("phi3")
    snapshot = tmp_path / "hub" / "models--acme--tiny-phi3" / "snapshots" / "abc123"
    shutil.copytree(model, snapshot)
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("abc123")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    spec = zoo_project(tmp_path / "project", "phi3", model)
    spec.write_text(spec.read_text().replace("path: models/phi3", "hub: acme/tiny-phi3, params: 1B"))
    plan = check_project(spec).plan
    assert plan.model.params == dims_from_config(json.loads((model / "config.json").read_text())).params
    assert plan.model.has_chat_template
    assert any("Hugging Face cache" in r.text for r in plan.decision.reasons)


@pytest.mark.parametrize("arch", ["llama", "qwen2", "gemma2", "mistral", "phi3", "gpt2", "t5"])
@pytest.mark.parametrize("targets", ["all-linear", "attention"])
def test_lora_counts_match_peft_on_the_zoo(zoo_model, arch, targets):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM

    from ftspec.compiler.modelinfo import architecture

    folder = zoo_model(arch)
    config = json.loads((folder / "config.json").read_text())
    names = architecture(config).module_names
    chosen = "all-linear" if targets == "all-linear" else [n for n in names if n in ("q", "v", "q_proj", "v_proj",
                                                                                      "qkv_proj", "c_attn")]
    seq2seq = AutoConfig.from_pretrained(folder).is_encoder_decoder
    model = (AutoModelForSeq2SeqLM if seq2seq else AutoModelForCausalLM).from_pretrained(folder)
    assert sum(p.numel() for p in model.parameters()) == dims_from_config(config).params
    peft_model = get_peft_model(model, LoraConfig(r=4, target_modules=chosen,
                                                  task_type="SEQ_2_SEQ_LM" if seq2seq else "CAUSAL_LM"))
    trainable, _ = peft_model.get_nb_trainable_parameters()
    assert lora_params(dims_from_config(config), 4, chosen if isinstance(chosen, str) else tuple(chosen)) == trainable


def test_explain_shows_a_dry_run_with_the_learned_span_marked(tmp_path, zoo_model):
    from tests.invoke import invoke

    spec = zoo_project(tmp_path, "qwen2", zoo_model("qwen2"))
    shown = invoke(["explain", str(spec)]).output
    assert "<|im_start|>assistant" in shown
    assert ROW_ONE_COMPLETION + "<|im_end|>⟧" in shown  # learned once, the newline after it not trained
    words = " ".join(shown.split())  # rich wraps the paragraphs at the terminal's width
    assert "learned tokens (max_seq_length 96)" in words and "2-shot eval prompt of the same row" in words


ROW_ONE_COMPLETION = json.loads((Path(__file__).resolve().parents[3] / "specs" / "demo" / "data" / "train.jsonl")
                                .read_text().splitlines()[0])["completion"]


def test_a_prompt_past_the_context_is_a_warning_at_check(tmp_path, zoo_model):
    short = check_project(zoo_project(tmp_path / "short", "qwen2", zoo_model("qwen2"), max_new_tokens=64)).plan
    assert not any(r.text.startswith("warning:") for r in short.decision.reasons)
    plan = check_project(zoo_project(tmp_path / "long", "gpt2", zoo_model("gpt2"), max_new_tokens=64)).plan
    first = plan.decision.reasons[0]  # a warning leads, so `check`'s short list shows it
    assert first.text.startswith("warning:") and "context of 128 tokens" in first.text
    assert first.spec_path == "evaluation.generation.max_new_tokens"


def test_a_sequence_past_learned_positions_is_a_located_error(tmp_path, zoo_model):
    spec = zoo_project(tmp_path, "gpt2", zoo_model("gpt2"))
    spec.write_text(spec.read_text().replace("max_seq_length: 96", "max_seq_length: 256"))
    with pytest.raises(SpecError) as caught:
        check_project(spec)
    assert [p.path for p in caught.value.problems] == ["training.max_seq_length"]
    assert "context window of 128 tokens" in caught.value.problems[0].message  # GPT-2's learned positions


def test_demo_model_makes_a_zoo_model_of_the_family_asked(tmp_path):
    from tests.invoke import invoke

    result = invoke(["demo-model", str(tmp_path / "tiny-gpt2"), "--arch", "gpt2"])
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "tiny-gpt2" / "config.json").read_text())
    assert config["model_type"] == "gpt2" and "(gpt2, random init)" in result.output
    assert invoke(["demo-model", str(tmp_path / "x"), "--arch", "bert"]).exit_code == 2
