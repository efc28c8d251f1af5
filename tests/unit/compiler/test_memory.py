"""The memory estimate against published anchors and known parameter counts."""

from __future__ import annotations

import pytest

from ftspec.compiler.memory import (
    GIB,
    TrainSetup,
    count_params,
    dims_from_config,
    dims_from_params,
    estimate_memory,
    lora_params,
)

LLAMA2_7B = {"hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 32,
             "intermediate_size": 11008, "vocab_size": 32000, "max_position_embeddings": 4096}


def test_param_count_matches_the_published_llama2_7b():
    assert dims_from_config(LLAMA2_7B).params == 6_738_415_616  # Llama-2-7b-hf's own count
    assert count_params(4096, 32, 32, 32, 11008, 32000) == 6_738_415_616


def test_lora_param_count_matches_peft_for_q_and_v_at_rank_8():
    # peft's print_trainable_parameters for LLaMA-7B, r=8 on q_proj and v_proj: 4,194,304
    assert lora_params(dims_from_config(LLAMA2_7B), 8, ("q_proj", "v_proj")) == 4_194_304


def test_qlora_fits_65b_on_one_48gb_gpu():
    # Dettmers et al. 2023: LLaMA-65B with QLoRA (r=64, all linear layers, paged AdamW) on one 48 GB GPU
    setup = TrainSetup(method="qlora", optimizer_bits=8, seq_len=512, batch_size=1, gradient_checkpointing=True,
                       lora_r=64)
    estimate = estimate_memory(dims_from_params(65e9), setup)
    assert estimate.fits(48)
    assert estimate.total_gib > 65e9 * 0.5 / GIB  # at least the 4-bit weights
    assert not estimate_memory(dims_from_params(65e9), TrainSetup(method="lora", seq_len=512,
                                                                  batch_size=1)).fits(48)


def test_qlora_fits_7b_on_a_24gb_gpu():
    setup = TrainSetup(method="qlora", optimizer_bits=8, seq_len=1024, batch_size=1, gradient_checkpointing=True)
    assert estimate_memory(dims_from_config(LLAMA2_7B), setup).fits(24)


def test_full_mixed_precision_adamw_needs_16_to_18_bytes_per_param_and_7b_exceeds_80gb():
    dims = dims_from_config(LLAMA2_7B)
    estimate = estimate_memory(dims, TrainSetup(method="full", seq_len=512, batch_size=1))
    states = sum(estimate.breakdown[k] for k in ("weights", "gradients", "optimizer")) * GIB
    assert 16 <= states / dims.params <= 18.01
    assert not estimate.fits(80)


def test_dpo_reference_model_only_without_an_adapter():
    dims = dims_from_config(LLAMA2_7B)
    full = estimate_memory(dims, TrainSetup(method="full", preference=True))
    lora = estimate_memory(dims, TrainSetup(method="lora", preference=True))
    assert full.breakdown["reference"] == pytest.approx(dims.params * 2 / GIB, rel=1e-3)
    assert lora.breakdown["reference"] == 0
    plain = estimate_memory(dims, TrainSetup(method="lora"))
    assert lora.breakdown["activations"] > plain.breakdown["activations"]  # chosen and rejected side by side


def test_an_objectives_terms_from_the_methods_table():
    """DPO's entry (two sequences a row, a reference model) estimates as the first wave's `preference` did; a reward
    model adds a frozen copy of the policy's size under any adapter."""
    from ftspec.compiler.methods import OBJECTIVES

    dims = dims_from_config(LLAMA2_7B)
    dpo = OBJECTIVES["dpo"]
    for method in ("full", "lora", "qlora"):
        terms = TrainSetup(method=method, sequences=dpo.sequences_per_row, reference_model=dpo.reference_model)
        assert estimate_memory(dims, terms) == estimate_memory(dims, TrainSetup(method=method, preference=True))
        rewarded = estimate_memory(dims, TrainSetup(method=method, reward_model=True))
        plain = estimate_memory(dims, TrainSetup(method=method))
        assert rewarded.breakdown["reward"] == pytest.approx(dims.params * 2 / GIB, rel=1e-3)
        assert rewarded.total_gib == pytest.approx(plain.total_gib + rewarded.breakdown["reward"], abs=1e-2)
        assert "reward" not in plain.breakdown


def test_each_input_moves_the_estimate_the_right_way():
    dims = dims_from_config(LLAMA2_7B)
    base = TrainSetup(method="lora", seq_len=1024, batch_size=2, gradient_checkpointing=False)

    def total(**changes):
        return estimate_memory(dims, TrainSetup(**{**base.__dict__, **changes})).total_gib

    assert total(gradient_checkpointing=True) < total()
    assert total(seq_len=2048) > total()
    assert total(batch_size=4) > total()
    assert total(lora_r=64) > total()
    assert total(method="qlora") < total()
    assert total(dtype="fp32") > total()
    assert estimate_memory(dims, TrainSetup(method="full", optimizer_bits=8)).breakdown["optimizer"] * 4 == \
        pytest.approx(estimate_memory(dims, TrainSetup(method="full")).breakdown["optimizer"], rel=1e-3)


def test_hub_model_without_config_takes_the_nearest_known_shape():
    dims = dims_from_params(7e9)
    assert dims.params == 7e9 and dims.hidden == 4096 and "shape of" in dims.source
