"""What ftspec knows of a base model without loading it: its architecture, module tree and tokenizer, read from
config.json and tokenizer_config.json in a local folder or in the user's Hugging Face cache (offline, never a
download). No torch, no transformers: `check` stays fast.

The module tree comes from a table per architecture family (model_type): the linear layers with their shapes and
counts, plus the parameters that are not linear layers (embeddings, norms, position tables). Parameter and LoRA
counts are sums over that inventory, so they match the real model exactly (tests/unit/compiler/test_modelinfo.py
builds the published shapes on the meta device and compares).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

# Class defaults of each config (transformers omits a value equal to its class default when it saves a config).
CLASS_DEFAULTS: dict[str, dict] = {
    "llama": dict(vocab_size=32000, hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
                  num_attention_heads=32, max_position_embeddings=2048, tie_word_embeddings=False),
    "mistral": dict(vocab_size=32000, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                    num_attention_heads=32, num_key_value_heads=8, max_position_embeddings=131072,
                    tie_word_embeddings=False),
    "qwen2": dict(vocab_size=151936, hidden_size=4096, intermediate_size=22016, num_hidden_layers=32,
                  num_attention_heads=32, max_position_embeddings=32768, tie_word_embeddings=False),
    "qwen3": dict(vocab_size=151936, hidden_size=4096, intermediate_size=22016, num_hidden_layers=32,
                  num_attention_heads=32, head_dim=128, max_position_embeddings=32768, tie_word_embeddings=False),
    "gemma2": dict(vocab_size=256000, hidden_size=2304, intermediate_size=9216, num_hidden_layers=26,
                   num_attention_heads=8, num_key_value_heads=4, head_dim=256, max_position_embeddings=8192,
                   tie_word_embeddings=True),
    "gemma3_text": dict(vocab_size=262208, hidden_size=2304, intermediate_size=9216, num_hidden_layers=26,
                        num_attention_heads=8, num_key_value_heads=4, head_dim=256, max_position_embeddings=131072,
                        tie_word_embeddings=True),
    "phi3": dict(vocab_size=32064, hidden_size=3072, intermediate_size=8192, num_hidden_layers=32,
                 num_attention_heads=32, max_position_embeddings=4096, tie_word_embeddings=False),
    "gpt2": dict(vocab_size=50257, n_embd=768, n_layer=12, n_head=12, n_positions=1024, tie_word_embeddings=True),
    "t5": dict(vocab_size=32128, d_model=512, d_ff=2048, d_kv=64, num_heads=8, num_layers=6,
               feed_forward_proj="relu", relative_attention_num_buckets=32, tie_word_embeddings=True),
}
# Per family: (norm parameters per layer in units of hidden, extra per-layer norms on q and k in units of head_dim)
GATED_DECODERS = {"llama": (2, 0), "mistral": (2, 0), "qwen2": (2, 0), "qwen3": (2, 2), "gemma2": (4, 0),
                  "gemma3_text": (4, 2), "phi3": (2, 0)}
FAMILIES = (*GATED_DECODERS, "gpt2", "t5")
# Seq2seq architectures: the attention and MLP projections LoRA adapts (peft's all-linear picks the same).
T5_TYPES = ("t5", "mt5", "umt5")


@dataclass(frozen=True)
class Linear:
    """One kind of linear layer: its leaf name (what LoRA target_modules match), shape and how many there are."""

    name: str
    fan_in: int
    fan_out: int
    count: int
    bias: bool = False

    @property
    def params(self) -> int:
        return self.count * (self.fan_in * self.fan_out + (self.fan_out if self.bias else 0))


@dataclass(frozen=True)
class Architecture:
    """The model's shape as its config gives it, and its linear layers (excluding the LM head)."""

    family: str  # a model_type of FAMILIES, or "llama-like" for an unknown one read with Llama's rules
    model_type: str | None
    encoder_decoder: bool
    hidden: int
    layers: int  # transformer blocks; encoder plus decoder for an encoder-decoder
    heads: int
    kv_heads: int
    head_dim: int
    intermediate: int
    vocab: int
    tied: bool
    context: int | None
    linears: tuple[Linear, ...]
    other_params: int  # embeddings, norms, position tables, relative-position biases, an untied LM head
    dropout: float = 0.0  # hidden-state dropout in training (GPT-2's resid_pdrop, T5's dropout_rate)
    attention_blocks: int = 0  # attention computations (T5: encoder self, decoder self and cross); 0: one a layer
    position_bias: bool = False  # an additive bias on the scores (T5): SDPA cannot fuse, the s x s matrix is kept

    @property
    def params(self) -> int:
        return sum(linear.params for linear in self.linears) + self.other_params

    @property
    def module_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(linear.name for linear in self.linears))

    def adapted(self, targets: tuple[str, ...] | str) -> list[Linear]:
        """The linears LoRA adapts: peft matches a target against the module name's last part."""
        if targets == "all-linear":
            return list(self.linears)
        return [linear for linear in self.linears if linear.name in set(targets)]

    def lora_params(self, r: int, targets: tuple[str, ...] | str) -> int:
        return sum(linear.count * r * (linear.fan_in + linear.fan_out) for linear in self.adapted(targets))


def architecture(config: dict) -> Architecture:
    """The Architecture of a Hugging Face config.json; raises KeyError/ValueError/TypeError when it is not one."""
    config = config.get("text_config", config) if config.get("model_type") not in T5_TYPES else config
    model_type = config.get("model_type")
    defaults = CLASS_DEFAULTS.get("t5" if model_type in T5_TYPES else model_type, {})

    def get(*names, default=None):
        found = next((config[n] for n in names if config.get(n) is not None), None)
        if found is not None:
            return found
        return next((defaults[n] for n in names if defaults.get(n) is not None), default)

    if model_type in T5_TYPES or config.get("is_encoder_decoder") and "d_kv" in config:
        return _t5(get, model_type or "t5")
    if model_type == "gpt2":
        return _gpt2(get)
    return _gated_decoder(get, config, model_type)


def _gated_decoder(get, config: dict, model_type: str | None) -> Architecture:
    """Llama, Mistral, Qwen2/3, Gemma 2/3, Phi-3 (fused qkv and gate_up) and unknown Llama-like decoders."""
    family = model_type if model_type in GATED_DECODERS else "llama-like"
    hidden = int(get("hidden_size", "n_embd", "d_model"))
    layers = int(get("num_hidden_layers", "n_layer", "num_layers"))
    heads = int(get("num_attention_heads", "n_head"))
    kv = int(get("num_key_value_heads", default=heads))
    head_dim = int(get("head_dim", default=hidden // heads))
    inter = int(get("intermediate_size", "n_inner", "ffn_dim", default=4 * hidden))
    vocab = int(get("vocab_size"))
    tied = bool(get("tie_word_embeddings", default=False))
    q, kv_out = heads * head_dim, kv * head_dim
    qkv_bias = model_type == "qwen2" or bool(get("attention_bias", default=False))
    o_bias = bool(get("attention_bias", default=False)) and model_type != "qwen2"
    mlp_bias = bool(get("mlp_bias", default=False))
    if family == "phi3":
        linears = (Linear("qkv_proj", hidden, q + 2 * kv_out, layers), Linear("o_proj", q, hidden, layers),
                   Linear("gate_up_proj", hidden, 2 * inter, layers), Linear("down_proj", inter, hidden, layers))
    else:
        linears = (Linear("q_proj", hidden, q, layers, qkv_bias), Linear("k_proj", hidden, kv_out, layers, qkv_bias),
                   Linear("v_proj", hidden, kv_out, layers, qkv_bias), Linear("o_proj", q, hidden, layers, o_bias),
                   Linear("gate_proj", hidden, inter, layers, mlp_bias),
                   Linear("up_proj", hidden, inter, layers, mlp_bias),
                   Linear("down_proj", inter, hidden, layers, mlp_bias))
    norms, qk_norms = GATED_DECODERS.get(family, (2, 0))
    other = vocab * hidden * (1 if tied else 2) + layers * (norms * hidden + qk_norms * head_dim) + hidden
    context = get("max_position_embeddings", "n_positions", "max_sequence_length")
    return Architecture(family, model_type, False, hidden, layers, heads, kv, head_dim, inter, vocab, tied,
                        int(context) if context else None, linears, other)


def _gpt2(get) -> Architecture:
    """GPT-2: Conv1D layers with biases (fused c_attn), a plain two-matrix MLP, learned positions, LayerNorms."""
    hidden, layers, heads = int(get("n_embd")), int(get("n_layer")), int(get("n_head"))
    inter, vocab, positions = int(get("n_inner", default=4 * hidden)), int(get("vocab_size")), int(get("n_positions"))
    tied = bool(get("tie_word_embeddings", default=True))
    linears = (Linear("c_attn", hidden, 3 * hidden, layers, True), Linear("c_proj", hidden, hidden, layers, True),
               Linear("c_fc", hidden, inter, layers, True), Linear("c_proj", inter, hidden, layers, True))
    other = vocab * hidden * (1 if tied else 2) + positions * hidden + layers * 4 * hidden + 2 * hidden
    return Architecture("gpt2", "gpt2", False, hidden, layers, heads, heads, hidden // heads, inter, vocab, tied,
                        positions, linears, other, float(get("resid_pdrop", default=0.1)))


def _t5(get, model_type: str) -> Architecture:
    """T5 / Flan-T5: an encoder and a decoder (self- plus cross-attention), relative position biases on each stack's
    first layer, a ReLU (wi, wo) or gated (wi_0, wi_1, wo) MLP, weight-only RMS norms."""
    d, ff, d_kv, heads = int(get("d_model")), int(get("d_ff")), int(get("d_kv")), int(get("num_heads"))
    enc = int(get("num_layers"))
    dec = int(get("num_decoder_layers", default=enc))
    vocab, tied = int(get("vocab_size")), bool(get("tie_word_embeddings", default=True))
    tied = tied or model_type == "t5"  # transformers 5 always ties T5's LM head to its embeddings (T5Config)
    gated = str(get("feed_forward_proj", default="relu")).startswith("gated")
    inner = heads * d_kv
    attention_blocks = enc + 2 * dec  # encoder self-attention, decoder self- and cross-attention
    linears = (Linear("q", d, inner, attention_blocks), Linear("k", d, inner, attention_blocks),
               Linear("v", d, inner, attention_blocks), Linear("o", inner, d, attention_blocks))
    mlp = (Linear("wi_0", d, ff, enc + dec), Linear("wi_1", d, ff, enc + dec)) if gated else \
        (Linear("wi", d, ff, enc + dec),)
    linears += (*mlp, Linear("wo", ff, d, enc + dec))
    buckets = int(get("relative_attention_num_buckets", default=32))
    norms = (2 * enc + 3 * dec + 2) * d  # one before each sub-layer, one at the end of each stack
    other = vocab * d * (1 if tied else 2) + 2 * buckets * heads + norms
    return Architecture("t5", model_type, True, d, enc + dec, heads, heads, d_kv, ff, vocab, tied, None, linears,
                        other, float(get("dropout_rate", default=0.1)), attention_blocks, True)


@dataclass(frozen=True)
class TokenizerInfo:
    bos: str | None = None
    eos: str | None = None
    pad: str | None = None
    chat_template: str | None = None


@dataclass(frozen=True)
class ModelFiles:
    """A model read from disk: its folder, config.json (parsed) and tokenizer facts; config is None if unreadable."""

    folder: Path
    config: dict | None
    tokenizer: TokenizerInfo
    where: str  # "local" or "Hugging Face cache"

    @property
    def architecture(self) -> Architecture | None:
        if self.config is None:
            return None
        try:
            return architecture(self.config)
        except (ValueError, TypeError, KeyError, ZeroDivisionError):
            return None


def read_model(folder: Path, where: str = "local") -> ModelFiles:
    config = None
    try:
        loaded = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        config = loaded if isinstance(loaded, dict) else None
    except (OSError, ValueError):
        config = None
    return ModelFiles(folder, config, read_tokenizer(folder), where)


def read_tokenizer(folder: Path) -> TokenizerInfo:
    settings: dict = {}
    for name in ("special_tokens_map.json", "tokenizer_config.json"):
        try:
            loaded = json.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(loaded, dict):
            settings.update({k: v for k, v in loaded.items() if v is not None})
    return TokenizerInfo(_token(settings.get("bos_token")), _token(settings.get("eos_token")),
                         _token(settings.get("pad_token")), _chat_template(folder, settings))


def _token(value) -> str | None:
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else None


def _chat_template(folder: Path, settings: dict) -> str | None:
    try:
        return (folder / "chat_template.jinja").read_text(encoding="utf-8")
    except OSError:
        pass
    template = settings.get("chat_template")
    try:  # a processor-style chat_template.json
        template = template or json.loads((folder / "chat_template.json").read_text(encoding="utf-8"))["chat_template"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    if isinstance(template, list):  # named templates: the default one
        template = next((t.get("template") for t in template if isinstance(t, dict) and t.get("name") == "default"),
                        None)
    return template if isinstance(template, str) and template.strip() else None


def hub_cache_dir() -> Path:
    """The Hugging Face hub cache, as huggingface_hub resolves it (HF_HUB_CACHE, else HF_HOME/hub)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME") or "~/.cache", "huggingface")
    return Path(home).expanduser() / "hub"


def cached_snapshot(repo_id: str, revision: str = "main") -> Path | None:
    """The cached snapshot folder of a hub model (models--ORG--NAME/snapshots/COMMIT) if it holds config.json.
    Reads the cache's layout only: nothing is downloaded, no network is touched."""
    if not repo_id or ".." in repo_id or repo_id.startswith("/"):
        return None
    repo = hub_cache_dir() / ("models--" + repo_id.replace("/", "--"))
    try:
        commit = (repo / "refs" / revision).read_text(encoding="utf-8").strip()
    except OSError:  # fetched by commit, with no ref: the one snapshot there is, if there is one
        found = [p.name for p in (repo / "snapshots").iterdir()] if (repo / "snapshots").is_dir() else []
        commit = found[0] if len(found) == 1 else revision
    snapshot = repo / "snapshots" / commit
    return snapshot if (snapshot / "config.json").is_file() else None


def rejects_system_role(template: str, tokens: TokenizerInfo) -> bool:
    """Whether the chat template raises on a system message but renders without one (Gemma's does)."""
    if "raise_exception" not in template:  # a template can only refuse by raising: skip the render (and jinja2)
        return False
    user = [{"role": "user", "content": "Hello"}]
    if _render(template, user, tokens, True) is None:
        return False  # it fails without a system message too: not a verdict on the system role
    return _render(template, [{"role": "system", "content": "Be brief."}, *user], tokens, True) is None


def end_token_trail(template: str, tokens: TokenizerInfo) -> str | None:
    """What the template writes after the end token closing an assistant turn (ChatML: `<|im_end|>` then a
    newline), where the end token is the tokenizer's eos; None if nothing trails it."""
    eos = tokens.eos
    if not eos or eos not in template:  # eos written only through `eos_token` ends the text: nothing to find
        return None
    answer = "ANSWER-7f3a"
    text = _render(template, [{"role": "user", "content": "Hello"}, {"role": "assistant", "content": answer}],
                   tokens, False)
    if text is None or answer not in text:
        return None
    tail = text[text.rindex(answer) + len(answer):]
    if eos not in tail:
        return None
    trail = tail[tail.index(eos) + len(eos):]
    return trail or None


def _render(template: str, messages: list[dict], tokens: TokenizerInfo, generation_prompt: bool) -> str | None:
    try:
        return render_chat(template, messages, tokens, generation_prompt)
    except Exception:  # noqa: BLE001 - any failure of a user's template means it cannot render this conversation
        return None


def render_chat(template: str, messages: list[dict], tokens: TokenizerInfo, generation_prompt: bool) -> str:
    """The template rendered as transformers renders it (a sandboxed jinja2); raises what the template raises."""
    from jinja2 import TemplateError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message):
        raise TemplateError(message)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.globals["raise_exception"] = raise_exception
    env.filters["tojson"] = lambda value, **kw: json.dumps(value, ensure_ascii=False)
    return env.from_string(template).render(messages=messages, add_generation_prompt=generation_prompt,
                                            bos_token=tokens.bos or "", eos_token=tokens.eos or "",
                                            pad_token=tokens.pad or "")
