"""The tiny demo base model: made locally, loaded through the real transformers path, torch-free on import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ftspec.errors import UsageError

PAYLOAD = '{"item": "t-shirt", "colour": "navy", "quantity": 3}'


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    from ftspec.demo.model import make_demo_model

    return make_demo_model(tmp_path_factory.mktemp("demo") / "tiny-llama", pretrain_steps=0)


def test_importing_the_demo_model_module_does_not_import_torch():
    heavy = ("torch", "transformers", "peft", "trl", "datasets", "accelerate")
    code = (f"import sys, ftspec, ftspec.demo.model, ftspec.demo.orders; "
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.slow
def test_the_folder_loads_through_the_auto_classes(built):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(built)
    model = AutoModelForCausalLM.from_pretrained(built)
    assert model.config.model_type == "llama"
    assert model.config.vocab_size == len(tokenizer)
    assert (built / "model.safetensors").is_file()
    ids = tokenizer(PAYLOAD, return_tensors="pt")["input_ids"]
    assert model(input_ids=ids).logits.shape == (1, ids.shape[1], len(tokenizer))


@pytest.mark.slow
def test_tokenizer_round_trips_json_and_chat_text(built):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(built)
    for text in (PAYLOAD, "Hi, can I get 3 navy t-shirts?\nThanks ✓", '{"a": [1, 2.5, null]}'):
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        assert tokenizer.decode(ids) == text
    assert tokenizer.unk_token_id not in tokenizer("émoji 🚀 ok", add_special_tokens=False)["input_ids"]
    special = {tokenizer.bos_token, tokenizer.eos_token, tokenizer.pad_token, tokenizer.unk_token}
    assert len(special) == 4 and None not in special


@pytest.mark.slow
def test_chat_template_opens_an_assistant_turn_and_closes_turns_with_eos(built):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(built)
    messages = [{"role": "system", "content": "Reply in JSON."}, {"role": "user", "content": "3 navy t-shirts"}]
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    full = tokenizer.apply_chat_template(messages + [{"role": "assistant", "content": PAYLOAD}], tokenize=False)
    assert prompt.startswith(tokenizer.bos_token) and "Reply in JSON." in prompt and "3 navy t-shirts" in prompt
    assert full.startswith(prompt) and full.endswith(PAYLOAD + tokenizer.eos_token)
    without = tokenizer.apply_chat_template(messages, add_generation_prompt=False, tokenize=False)
    assert prompt.startswith(without) and len(prompt) > len(without) and without.endswith(tokenizer.eos_token)
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=True)["input_ids"]
    assert ids[0] == tokenizer.bos_token_id and tokenizer.eos_token_id in ids


@pytest.mark.slow
def test_a_second_call_keeps_the_model_and_force_rebuilds_it_identically(built, capsys):
    from ftspec.demo.model import make_demo_model

    weights = built / "model.safetensors"
    before = (weights.stat().st_mtime_ns, weights.read_bytes())
    make_demo_model(built, pretrain_steps=0)
    assert weights.stat().st_mtime_ns == before[0]
    assert "already exists" in capsys.readouterr().out
    make_demo_model(built, pretrain_steps=0, force=True)
    assert weights.stat().st_mtime_ns != before[0]
    assert weights.read_bytes() == before[1]  # seeded: the same recipe gives the same weights
    assert [p.name for p in built.parent.iterdir() if p.name.startswith(".")] == []  # no staging left behind


def test_a_folder_with_other_content_is_never_overwritten(tmp_path):
    from ftspec.demo.model import make_demo_model

    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(UsageError, match="refusing to overwrite"):
        make_demo_model(out, pretrain_steps=0)
    assert (out / "notes.txt").read_text() == "keep me"


@pytest.mark.slow
def test_pretraining_lowers_the_loss_on_domain_text(tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ftspec.demo.model import make_demo_model

    def loss(folder: Path) -> float:
        tokenizer, model = AutoTokenizer.from_pretrained(folder), AutoModelForCausalLM.from_pretrained(folder)
        ids = tokenizer(PAYLOAD, return_tensors="pt")["input_ids"]
        with torch.no_grad():
            return model(input_ids=ids, labels=ids).loss.item()

    random_init = make_demo_model(tmp_path / "random", pretrain_steps=0)
    trained = make_demo_model(tmp_path / "trained", pretrain_steps=30)
    assert loss(trained) < loss(random_init)
    assert json.loads((trained / "ftspec_demo_model.json").read_text())["pretrain_steps"] == 30


@pytest.mark.slow
def test_cli_makes_the_model_and_reports_a_refusal_without_a_traceback(tmp_path):
    def demo_model(*args: str):
        return subprocess.run([sys.executable, "-m", "ftspec", "demo-model", *args], capture_output=True, text=True,
                              env={"NO_COLOR": "1", "PATH": "", "OMP_NUM_THREADS": "1"})

    done = demo_model(str(tmp_path / "m"), "--pretrain-steps", "0")
    assert done.returncode == 0, done.stderr
    assert "saved to" in done.stdout and (tmp_path / "m" / "config.json").is_file()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "data.csv").write_text("a,b\n")
    refused = demo_model(str(tmp_path / "other"))
    assert refused.returncode == 2
    assert "refusing to overwrite" in refused.stdout + refused.stderr and "Traceback" not in refused.stderr
