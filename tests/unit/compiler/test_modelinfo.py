"""Parameter and LoRA counts from the model's real module tree, by architecture family: exact at published shapes.

Each published config is built on the meta device (no weights, no download) and its parameters are summed by torch;
ftspec counts the same config without torch."""

from __future__ import annotations

import pytest

from ftspec.compiler.memory import dims_from_config, lora_params
from ftspec.compiler.modelinfo import architecture

# The shape-defining keys of each published config.json, and the count the model card states.
PUBLISHED = {
    "Llama-3-8B": (dict(model_type="llama", hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                        num_attention_heads=32, num_key_value_heads=8, vocab_size=128256,
                        max_position_embeddings=8192, tie_word_embeddings=False), 8_030_261_248),
    "Qwen2.5-0.5B": (dict(model_type="qwen2", hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                          num_attention_heads=14, num_key_value_heads=2, vocab_size=151936,
                          max_position_embeddings=32768, tie_word_embeddings=True), 494_032_768),
    "Gemma-2-2B": (dict(model_type="gemma2", hidden_size=2304, intermediate_size=9216, num_hidden_layers=26,
                        num_attention_heads=8, num_key_value_heads=4, head_dim=256, vocab_size=256000,
                        max_position_embeddings=8192), 2_614_341_888),
    "Mistral-7B-v0.1": (dict(model_type="mistral", hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                             num_attention_heads=32, num_key_value_heads=8, vocab_size=32000,
                             max_position_embeddings=32768), 7_241_732_096),
    "Phi-3-mini-4k": (dict(model_type="phi3", hidden_size=3072, intermediate_size=8192, num_hidden_layers=32,
                           num_attention_heads=32, num_key_value_heads=32, vocab_size=32064,
                           max_position_embeddings=4096), 3_821_079_552),
    "GPT-2 (124M)": (dict(model_type="gpt2", n_embd=768, n_layer=12, n_head=12, n_positions=1024,
                          vocab_size=50257), 124_439_808),
    "GPT-2 medium (355M)": (dict(model_type="gpt2", n_embd=1024, n_layer=24, n_head=16, n_positions=1024,
                                 vocab_size=50257), 354_823_168),
    "Flan-T5-base": (dict(model_type="t5", d_model=768, d_ff=2048, d_kv=64, num_heads=12, num_layers=12,
                          num_decoder_layers=12, vocab_size=32128, feed_forward_proj="gated-gelu",
                          is_encoder_decoder=True, tie_word_embeddings=False), 222_903_552),
    # 247,577,856 in transformers 4; transformers 5 always ties T5's LM head to the shared embeddings
}


def meta_model(config: dict):
    """The real model class built from the config on the meta device: shapes without memory."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM

    settings = {k: v for k, v in config.items() if k != "model_type"}
    cfg = AutoConfig.for_model(config["model_type"], **settings)
    auto = AutoModelForSeq2SeqLM if cfg.is_encoder_decoder else AutoModelForCausalLM
    with torch.device("meta"):
        return auto.from_config(cfg)


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_parameter_count_is_exact_at_the_published_shape(name):
    config, published = PUBLISHED[name]
    model = meta_model(config)
    counted = sum(p.numel() for p in model.parameters())
    assert dims_from_config(config).params == counted
    assert counted == published


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_module_names_are_the_models_own_linear_layers(name):
    import torch

    config, _ = PUBLISHED[name]
    model = meta_model(config)
    names = set()
    for full, module in model.named_modules():
        leaf = full.rsplit(".", 1)[-1]
        if leaf != "lm_head" and (isinstance(module, torch.nn.Linear) or type(module).__name__ == "Conv1D"):
            names.add(leaf)
    assert set(architecture(config).module_names) == names


@pytest.mark.parametrize("name", ["Qwen2.5-0.5B", "Phi-3-mini-4k", "GPT-2 (124M)", "Flan-T5-base"])
def test_lora_counts_match_peft_at_the_published_shape(name):
    from peft import LoraConfig, get_peft_model

    config, _ = PUBLISHED[name]
    model = meta_model(config)
    task = "SEQ_2_SEQ_LM" if config["model_type"] == "t5" else "CAUSAL_LM"
    peft_model = get_peft_model(model, LoraConfig(r=8, target_modules="all-linear", task_type=task))
    trainable, _ = peft_model.get_nb_trainable_parameters()
    assert lora_params(dims_from_config(config), 8, "all-linear") == trainable
