"""A zoo of tiny random-initialised base models, one per architecture family teams fine-tune: Llama, Qwen2, Gemma 2,
Mistral, Phi-3, GPT-2 and T5 (Flan-T5 style).

Each is built from its real config class with its family's real special tokens and chat template (ChatML for Qwen2;
Gemma's, which rejects the system role; Phi-3's; Llama 3's; none for the Mistral and GPT-2 base models and for T5),
a byte-level BPE tokenizer trained on the spot, saved with save_pretrained and loaded back through from_pretrained
as a user's script would. Shapes are tiny (a few hundred thousand parameters), so a test trains one in seconds.
torch, transformers and tokenizers are imported inside the functions: importing ftspec must stay light.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ftspec.errors import UsageError
from ftspec.fsutil import swap_in_folder

RECIPE = 1  # bump when a family's config, tokens or template changes, so old zoo models are rebuilt
MARKER = "ftspec_zoo_model.json"
SEED = 1234
VOCAB_SIZE = 512
DOCUMENTS = 600
DECODER_SHAPE = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                     num_key_value_heads=2, max_position_embeddings=512)

CHATML = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + "
          "'<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
# Gemma 2's own template: no system role, strictly alternating user/model turns.
GEMMA = ("{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}"
         "{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
         "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
         "{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}"
         "{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}"
         "{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}")
PHI3 = ("{% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\n' + message['content'] + "
        "'<|end|>\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|end|>\n'}}"
        "{% elif message['role'] == 'assistant' %}{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}"
        "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}")
LLAMA3 = ("{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + "
          "'<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
          "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}")


@dataclass(frozen=True)
class Family:
    config_class: str
    model_class: str
    shape: dict
    tokens: dict  # bos/eos/pad/unk -> text (None: the family has none)
    extra_tokens: tuple[str, ...] = ()
    chat_template: str | None = None
    add_bos: bool = False  # the tokenizer prepends bos (Llama, Mistral, Gemma do)
    add_eos: bool = False  # the tokenizer appends eos (T5 does)
    config_extra: dict = field(default_factory=dict)


FAMILIES: dict[str, Family] = {
    "llama": Family("LlamaConfig", "LlamaForCausalLM", DECODER_SHAPE,
                    dict(bos="<|begin_of_text|>", eos="<|eot_id|>"),
                    ("<|start_header_id|>", "<|end_header_id|>", "<|end_of_text|>"), LLAMA3, add_bos=True),
    "qwen2": Family("Qwen2Config", "Qwen2ForCausalLM", DECODER_SHAPE,
                    dict(eos="<|im_end|>", pad="<|endoftext|>"), ("<|im_start|>",), CHATML,
                    config_extra=dict(tie_word_embeddings=True)),
    "gemma2": Family("Gemma2Config", "Gemma2ForCausalLM", {**DECODER_SHAPE, "head_dim": 16},
                     dict(bos="<bos>", eos="<eos>", pad="<pad>", unk="<unk>"), ("<start_of_turn>", "<end_of_turn>"),
                     GEMMA, add_bos=True, config_extra=dict(query_pre_attn_scalar=16, sliding_window=64)),
    "mistral": Family("MistralConfig", "MistralForCausalLM", DECODER_SHAPE,
                      dict(bos="<s>", eos="</s>", unk="<unk>"), add_bos=True),
    "phi3": Family("Phi3Config", "Phi3ForCausalLM", {**DECODER_SHAPE, "num_key_value_heads": 4},
                   dict(bos="<s>", eos="<|endoftext|>", pad="<|endoftext|>", unk="<unk>"),
                   ("<|system|>", "<|user|>", "<|assistant|>", "<|end|>"), PHI3),
    # 128 positions: a context short enough that a long prompt plus max_new_tokens can run past it
    "gpt2": Family("GPT2Config", "GPT2LMHeadModel", dict(n_embd=64, n_layer=2, n_head=4, n_positions=128),
                   dict(bos="<|endoftext|>", eos="<|endoftext|>")),
    "t5": Family("T5Config", "T5ForConditionalGeneration",
                 dict(d_model=64, d_ff=128, d_kv=16, num_heads=4, num_layers=2, num_decoder_layers=2,
                      feed_forward_proj="gated-gelu"),
                 dict(pad="<pad>", eos="</s>", unk="<unk>"), add_eos=True,
                 config_extra=dict(decoder_start_token_id=0)),
}
ARCHES = tuple(FAMILIES)


def built_with(folder: Path) -> dict | None:
    try:
        return json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return None


def make_zoo_model(arch: str, out: Path, force: bool = False) -> Path:
    """Build the tiny `arch` model into `out` (atomically) and return `out`; a no-op if it is already there."""
    if arch not in FAMILIES:
        raise UsageError(f"unknown architecture `{arch}`", "choose one of " + ", ".join(ARCHES))
    out = Path(out)
    made = built_with(out)
    if made is not None and made.get("recipe") == RECIPE and made.get("arch") == arch and not force:
        return out
    if out.exists() and made is None and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"{out} exists and is not a zoo model; refusing to overwrite it", "pick an empty folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        _build(arch, staging)
        swap_in_folder(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def _build(arch: str, folder: Path) -> None:
    import torch
    import transformers
    from transformers.utils.logging import disable_progress_bar

    family = FAMILIES[arch]
    torch.manual_seed(SEED)
    tokenizer = train_tokenizer(family)
    ids = {f"{name}_token_id": tokenizer.convert_tokens_to_ids(text) for name, text in family.tokens.items()
           if name in ("bos", "eos", "pad")}
    config = getattr(transformers, family.config_class)(vocab_size=len(tokenizer), **family.shape, **ids,
                                                        **family.config_extra)
    model = getattr(transformers, family.model_class)(config)
    if tokenizer.pad_token_id is not None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    disable_progress_bar()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    _load_back(folder, family)
    params = sum(p.numel() for p in model.parameters())
    marker = {"recipe": RECIPE, "arch": arch, "seed": SEED, "params": params, "config_class": family.config_class}
    (folder / MARKER).write_text(json.dumps(marker, indent=2) + "\n")


def _load_back(folder: Path, family: Family) -> None:
    """Through from_pretrained, as the generated scripts load it: the saved folder must be a complete model."""
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    auto = AutoModelForSeq2SeqLM if family.add_eos else AutoModelForCausalLM
    model = auto.from_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    if type(model).__name__ != family.model_class or (tokenizer.chat_template or None) != family.chat_template:
        raise RuntimeError(f"{folder} does not load back as a {family.model_class} with its chat template")


def train_tokenizer(family: Family):
    """A byte-level BPE tokenizer with the family's special tokens and template, wrapped for transformers."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    from ftspec.demo.orders import pretraining_texts

    special = list(dict.fromkeys([t for t in family.tokens.values() if t] + list(family.extra_tokens)))
    tok = Tokenizer(models.BPE(unk_token=family.tokens.get("unk")))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, special_tokens=special, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(pretraining_texts(DOCUMENTS, seed=SEED), trainer=trainer)
    bos, eos = family.tokens.get("bos"), family.tokens.get("eos")
    if family.add_bos:
        tok.post_processor = processors.TemplateProcessing(single=f"{bos} $A", pair=f"{bos} $A {bos} $B",
                                                           special_tokens=[(bos, tok.token_to_id(bos))])
    elif family.add_eos:
        tok.post_processor = processors.TemplateProcessing(single=f"$A {eos}", pair=f"$A {eos} $B {eos}",
                                                           special_tokens=[(eos, tok.token_to_id(eos))])
    named = {f"{name}_token": text for name, text in family.tokens.items()}
    return PreTrainedTokenizerFast(tokenizer_object=tok, **named, extra_special_tokens=list(family.extra_tokens),
                                   chat_template=family.chat_template, model_max_length=_context(family))


def _context(family: Family) -> int:
    return family.shape.get("max_position_embeddings") or family.shape.get("n_positions") or 512
