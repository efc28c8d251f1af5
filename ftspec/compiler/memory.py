"""Peak training-memory estimate for one model and one method. The formula is documented in docs/memory.md.

Pure arithmetic: no torch. Memory is in GiB (2**30 bytes), as GPU memory is sold ("24 GB" cards hold 24 GiB).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from ftspec.compiler.modelinfo import Architecture, Linear, architecture

GIB = 2**30
DTYPE_BYTES = {"fp32": 4, "bf16": 2, "fp16": 2}
NF4_BYTES = 0.5  # 4 bits per quantised weight
NF4_CONSTANT_BYTES = (8 / 64 + 32 / (64 * 256)) / 8  # double quantisation: 8-bit absmax per 64, fp32 per 256 blocks
CUDA_OVERHEAD_GIB = 1.0  # CUDA context, cuBLAS workspace, allocator slack
CPU_OVERHEAD_GIB = 0.02  # oneDNN scratch and allocator arenas, measured on the tiny model (benchmarks/bench_memory.py)
LINEAR_NAMES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class ModelDims:
    """The shape of a decoder-only transformer (Llama-style: gated MLP, grouped-query attention)."""

    params: float
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    intermediate: int
    vocab: int
    head_dim: int | None = None
    tied_embeddings: bool = False
    context_window: int | None = None
    source: str = "config.json"
    # From config.json: the family's real linear layers (LoRA counts) and whether it is an encoder-decoder.
    # Empty for a bare parameter count, which is costed as a Llama-style model.
    linears: tuple[Linear, ...] = ()
    family: str = "llama-like"
    encoder_decoder: bool = False
    dropout: float = 0.0
    attention_blocks: int = 0  # 0: one a layer
    position_bias: bool = False

    @property
    def q_dim(self) -> int:
        return self.heads * (self.head_dim or self.hidden // self.heads)

    @property
    def kv_dim(self) -> int:
        return self.kv_heads * (self.head_dim or self.hidden // self.heads)

    @property
    def embedding_params(self) -> int:
        return self.vocab * self.hidden * (1 if self.tied_embeddings else 2)


def count_params(hidden: int, layers: int, heads: int, kv_heads: int, intermediate: int, vocab: int,
                 head_dim: int | None = None, tied: bool = False) -> int:
    """The standard count for a Llama-style decoder: embeddings, attention, gated MLP, RMSNorms, LM head."""
    head_dim = head_dim or hidden // heads
    attention = hidden * heads * head_dim * 2 + hidden * kv_heads * head_dim * 2
    mlp = 3 * hidden * intermediate
    per_layer = attention + mlp + 2 * hidden
    return vocab * hidden * (1 if tied else 2) + layers * per_layer + hidden


def dims_from_config(config: dict, source: str = "config.json") -> ModelDims:
    """ModelDims from a Hugging Face config.json, counted over the family's real module tree (ftspec.compiler.
    modelinfo: Llama, Mistral, Qwen2/3, Gemma 2/3, Phi-3, GPT-2, T5; an unknown model_type is read as Llama-like)."""
    return dims_from_architecture(architecture(config), source)


def dims_from_architecture(arch: Architecture, source: str = "config.json") -> ModelDims:
    return ModelDims(float(arch.params), arch.hidden, arch.layers, arch.heads, arch.kv_heads, arch.intermediate,
                     arch.vocab, arch.head_dim, arch.tied, arch.context, source, arch.linears, arch.family,
                     arch.encoder_decoder, arch.dropout, arch.attention_blocks, arch.position_bias)


def read_model_folder(folder: Path) -> tuple[ModelDims | None, bool]:
    """(dims from config.json or None, whether the tokenizer has a chat template)."""
    dims = None
    config = folder / "config.json"
    if config.is_file():
        try:
            dims = dims_from_config(json.loads(config.read_text(encoding="utf-8")), str(config))
        except (ValueError, TypeError, KeyError, OSError, ZeroDivisionError):
            dims = None  # an unreadable config: fall back to the spec's params
    return dims, _has_chat_template(folder)


def _has_chat_template(folder: Path) -> bool:
    if (folder / "chat_template.jinja").is_file():
        return True
    tokenizer_config = folder / "tokenizer_config.json"
    try:
        return bool(json.loads(tokenizer_config.read_text(encoding="utf-8")).get("chat_template"))
    except (OSError, ValueError, AttributeError):
        return False


# Shapes of published models: (params, hidden, layers, heads, kv_heads, intermediate, vocab). A hub model gives only
# its parameter count, so activations and LoRA sizes use the nearest of these shapes.
KNOWN_SHAPES = (
    (1.2e6, 64, 2, 4, 4, 176, 2000),  # a demo-sized Llama
    (30e6, 512, 8, 8, 4, 1408, 8000),  # a small Llama
    (124e6, 768, 12, 12, 12, 3072, 50257),  # GPT-2 small
    (0.5e9, 896, 24, 14, 2, 4864, 151936),  # Qwen2.5-0.5B
    (1.1e9, 2048, 22, 32, 4, 5632, 32000),  # TinyLlama-1.1B
    (1.5e9, 1536, 28, 12, 2, 8960, 151936),  # Qwen2.5-1.5B
    (3.2e9, 3072, 28, 24, 8, 8192, 128256),  # Llama-3.2-3B
    (6.7e9, 4096, 32, 32, 32, 11008, 32000),  # Llama-2-7B
    (8.0e9, 4096, 32, 32, 8, 14336, 128256),  # Llama-3-8B
    (13e9, 5120, 40, 40, 40, 13824, 32000),  # Llama-2-13B
    (32.5e9, 6656, 60, 52, 52, 17920, 32000),  # LLaMA-33B
    (65.2e9, 8192, 80, 64, 64, 22016, 32000),  # LLaMA-65B
    (70e9, 8192, 80, 64, 8, 28672, 32000),  # Llama-2-70B
)


def dims_from_params(params: float, context_window: int | None = None) -> ModelDims:
    """A Llama-like shape for a bare parameter count: the nearest published model's, keeping the given count."""
    shape = min(KNOWN_SHAPES, key=lambda s: abs(math.log(s[0] / params)))
    _, hidden, layers, heads, kv_heads, intermediate, vocab = shape
    return ModelDims(float(params), hidden, layers, heads, kv_heads, intermediate, vocab,
                     context_window=context_window, source=f"params, shape of a {shape[0] / 1e9:g}B Llama-style model")


@dataclass(frozen=True)
class TrainSetup:
    """Everything the estimate depends on besides the model's shape."""

    method: Literal["full", "lora", "qlora"]
    dtype: Literal["bf16", "fp16", "fp32"] = "bf16"  # weights as loaded (frozen base for LoRA) and activations
    mixed_precision: bool = True  # full: fp32 master weights + bf16 autocast (HF Trainer bf16=True)
    optimizer_bits: Literal[32, 8] = 32  # AdamW states: 32-bit (8 B/param) or 8-bit bitsandbytes (2 B/param)
    seq_len: int = 512
    batch_size: int = 1
    gradient_checkpointing: bool = True
    lora_r: int = 16
    lora_targets: tuple[str, ...] | str = "all-linear"
    lora_dropout: bool = True  # a dropout before each adapter keeps a copy of its input
    preference: bool = False  # shorthand for DPO's terms: sequences=2 and a reference model
    # the objective's terms (compiler/methods.py): sequences per row, a frozen reference copy, a reward model
    sequences: int = 1
    reference_model: bool = False
    reward_model: bool = False
    device: Literal["cuda", "cpu"] = "cuda"


@dataclass(frozen=True)
class MemoryEstimate:
    total_gib: float
    breakdown: dict[str, float]  # GiB per part: weights, gradients, optimizer, activations, reference, overhead
    trainable_params: float

    def fits(self, budget_gib: float) -> bool:
        return self.total_gib <= budget_gib


def lora_modules(dims: ModelDims, targets: tuple[str, ...] | str) -> list[tuple[int, int]]:
    """(in, out) features of each adapted linear in one layer (a Llama-style layer: for a bare parameter count)."""
    shapes = {"q_proj": (dims.hidden, dims.q_dim), "k_proj": (dims.hidden, dims.kv_dim),
              "v_proj": (dims.hidden, dims.kv_dim), "o_proj": (dims.q_dim, dims.hidden),
              "gate_proj": (dims.hidden, dims.intermediate), "up_proj": (dims.hidden, dims.intermediate),
              "down_proj": (dims.intermediate, dims.hidden)}
    names = LINEAR_NAMES if targets == "all-linear" else tuple(targets)
    return [shapes.get(name, (dims.hidden, dims.hidden)) for name in names]


def adapted_linears(dims: ModelDims, targets: tuple[str, ...] | str) -> list[tuple[int, int, int]]:
    """(in, out, how many in the whole model) of each kind of linear LoRA adapts."""
    if dims.linears:
        every = targets == "all-linear"
        return [(lin.fan_in, lin.fan_out, lin.count) for lin in dims.linears if every or lin.name in targets]
    return [(fan_in, fan_out, dims.layers) for fan_in, fan_out in lora_modules(dims, targets)]


def lora_params(dims: ModelDims, r: int, targets: tuple[str, ...] | str) -> int:
    return sum(count * r * (fan_in + fan_out) for fan_in, fan_out, count in adapted_linears(dims, targets))


def estimate_memory(dims: ModelDims, setup: TrainSetup) -> MemoryEstimate:
    """Peak memory of one training step: the states that live all along plus the activations of the step."""
    parts = {"weights": 0.0, "gradients": 0.0, "optimizer": 0.0, "activations": 0.0, "reference": 0.0}
    optimizer_bytes = 8 if setup.optimizer_bits == 32 else 2
    if setup.method == "full":
        trainable = dims.params
        if setup.mixed_precision and setup.dtype != "fp32":
            parts["weights"] = dims.params * (4 + DTYPE_BYTES[setup.dtype])  # fp32 master + autocast copy
            parts["gradients"] = dims.params * 4
        else:
            parts["weights"] = parts["gradients"] = dims.params * DTYPE_BYTES[setup.dtype]
        parts["optimizer"] = dims.params * optimizer_bytes
        if setup.preference or setup.reference_model:  # without an adapter the reference is a frozen copy
            parts["reference"] = dims.params * DTYPE_BYTES[setup.dtype]
    else:
        trainable = lora_params(dims, setup.lora_r, setup.lora_targets)
        parts["weights"] = _frozen_weight_bytes(dims, setup) + trainable * 4  # adapters are kept in fp32
        parts["gradients"] = trainable * 4
        parts["optimizer"] = trainable * optimizer_bytes
    parts["activations"] = activation_bytes(dims, setup)
    if setup.reward_model:  # a frozen reward model of the policy's size, in the compute dtype
        parts["reward"] = dims.params * DTYPE_BYTES[setup.dtype]
    breakdown = {name: value / GIB for name, value in parts.items()}
    breakdown["overhead"] = CUDA_OVERHEAD_GIB if setup.device == "cuda" else CPU_OVERHEAD_GIB
    return MemoryEstimate(sum(breakdown.values()), {k: round(v, 3) for k, v in breakdown.items()}, float(trainable))


def _frozen_weight_bytes(dims: ModelDims, setup: TrainSetup) -> float:
    if setup.method == "lora":
        return dims.params * DTYPE_BYTES[setup.dtype]
    # QLoRA: linear layers in NF4; embeddings, LM head and norms are upcast to fp32 by prepare_model_for_kbit_training
    unquantised = dims.embedding_params + dims.hidden * (2 * dims.layers + 1)
    quantised = max(dims.params - unquantised, 0)
    return quantised * (NF4_BYTES + NF4_CONSTANT_BYTES) + unquantised * 4


def activation_bytes(dims: ModelDims, setup: TrainSetup) -> float:
    """Tensors autograd keeps for the backward pass, per token, plus the logits and the loss.

    Per layer and token (elements): the two RMSNorms (input, normalised output: 2h each), q/k with RoPE (2 each),
    v, the attention output and o_proj's input (2q), the gated MLP (gate, up, SiLU output, product: 4f). SDPA's
    fused kernels keep no seq x seq matrix. A LoRA dropout keeps one copy of each adapted linear's input.
    With gradient checkpointing only each layer's input is kept, and one layer is recomputed at a time.
    Families with dropout in training (GPT-2, T5) keep a mask and an output per dropout (two at the hidden width
    and one at the MLP's a layer); T5's relative position bias keeps each attention's scores and probabilities
    (heads x s per token, and the dropout's mask and output), as SDPA cannot fuse an additive bias.
    """
    tokens = setup.seq_len * setup.batch_size * (2 if setup.preference else setup.sequences)
    act = 4 if setup.dtype == "fp32" else 2
    layer = (4 * dims.hidden + 3 * dims.q_dim + 3 * dims.kv_dim + 4 * dims.intermediate) * act
    if dims.dropout:
        layer += (2 * dims.hidden + dims.intermediate) * (1 + act)
    if dims.position_bias:
        per_block = dims.heads * setup.seq_len * (2 * act + ((1 + act) if dims.dropout else 0))
        layer += per_block * (dims.attention_blocks or dims.layers) // max(dims.layers, 1)
    if setup.method != "full" and setup.lora_dropout:
        adapted = sum(fan_in * count for fan_in, _, count in adapted_linears(dims, setup.lora_targets))
        layer += adapted * act // max(dims.layers, 1)
    kept = dims.hidden * act * dims.layers + layer if setup.gradient_checkpointing else layer * dims.layers
    logits = dims.vocab * (act + 8)  # logits, their fp32 log-softmax and the gradient of the loss
    return tokens * (kept + logits)


def with_overrides(setup: TrainSetup, **changes) -> TrainSetup:
    return replace(setup, **changes)
