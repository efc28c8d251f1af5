"""The tiny local Llama base model that the demo and the tests use in place of a hub model.

It is made on the spot: a byte-level BPE tokenizer trained on demo-domain text, a ~1M-parameter Llama, and a brief
pre-training on unpaired domain text (order messages alone, JSON payloads alone). So the base model knows the words
and the JSON syntax but not the task, and fine-tuning has something real to add.
torch, transformers and tokenizers are imported inside the functions: importing ftspec must stay light.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from ftspec.errors import UsageError
from ftspec.fsutil import swap_in_folder

SEED = 1234
VOCAB_SIZE = 1024
BOS, EOS, PAD, UNK = "<s>", "</s>", "<pad>", "<unk>"
WORD_SPLIT = r"\w+|\s*[^\w\s]+|\s+"  # words, punctuation with the space before it, runs of space
ROLE_TOKENS = ("<|system|>", "<|user|>", "<|assistant|>")
# Each turn: a role token, a newline, the content, then eos; the generation prompt opens an assistant turn.
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + eos_token }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)
ARCHITECTURE = dict(hidden_size=128, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=4,
                    intermediate_size=384, max_position_embeddings=512, tie_word_embeddings=True)
PRETRAIN = dict(documents=4000, block_size=128, batch_size=8, learning_rate=3e-3, warmup_steps=20)
# 300 steps teach the words and the JSON syntax in under a minute. They do not teach the in-context copying LoRA
# would build on (LoRA then stalls at one constant answer, 0-8% exact match; after 2000 steps it reached 51-96%
# depending on the seed), so the demo spec fine-tunes fully: benchmarks/bench_demo_model.py measures both.
PRETRAIN_STEPS = 300
REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")
MARKER = "ftspec_demo_model.json"


RECIPE = 3  # bump when the tokenizer, architecture or corpus changes, so old demo models are rebuilt


def is_complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in (*REQUIRED_FILES, MARKER))


def built_with(folder: Path) -> dict | None:
    """The settings a demo model folder was made with (from its marker file), or None if it is not one of ours."""
    try:
        return json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return None


def make_demo_model(out: Path, pretrain_steps: int = PRETRAIN_STEPS, force: bool = False) -> Path:
    """Build the demo base model into `out` (atomically) and return `out`; a no-op if it is already there."""
    out = Path(out)
    if pretrain_steps < 0:
        raise UsageError(f"--pretrain-steps must be 0 or more, not {pretrain_steps}")
    made = built_with(out)
    if made is not None and is_complete(out) and not force:
        if made.get("recipe") == RECIPE:
            print(f"demo model: {out} already exists ({made.get('pretrain_steps')} pre-training steps; "
                  "use --force to rebuild)")
            return out
        print(f"demo model: {out} was made by an older recipe; rebuilding it")
        force = True  # the marker proves the folder is a demo model, so replacing it loses nothing of the user's
    if out.exists() and not force and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"{out} exists and is not a demo model; refusing to overwrite it",
                         "pick an empty or new folder, or pass --force to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    staging.chmod(0o777 & ~_umask())  # mkdtemp makes it private; a model folder is ordinary shared output
    try:
        _build(staging, pretrain_steps)
        swap_in_folder(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    print(f"demo model: saved to {out} in {time.perf_counter() - started:.1f} s")
    return out


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask



def _build(folder: Path, pretrain_steps: int) -> None:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    from transformers.utils.logging import disable_progress_bar

    from ftspec.demo.orders import pretraining_texts

    torch.manual_seed(SEED)
    texts = pretraining_texts(PRETRAIN["documents"], seed=SEED)
    tokenizer = train_tokenizer(texts)
    config = LlamaConfig(vocab_size=len(tokenizer), bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, **ARCHITECTURE)
    model = LlamaForCausalLM(config)
    params = sum(p.numel() for p in model.parameters())
    print(f"demo model: {params / 1e6:.2f}M parameters, pre-training {pretrain_steps} steps", flush=True)
    if pretrain_steps:
        pretrain(model, tokenizer, texts, pretrain_steps)
    model.eval()
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    disable_progress_bar()  # one "saved" line says it; a progress bar for a 4 MB file is noise
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    marker = {"recipe": RECIPE, "seed": SEED, "pretrain_steps": pretrain_steps, "params": params,
              "architecture": ARCHITECTURE}
    (folder / MARKER).write_text(json.dumps(marker, indent=2) + "\n")


def train_tokenizer(texts: list[str]):
    """A byte-level BPE tokenizer (so no text is ever unknown) wrapped for transformers, with a chat template."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    print(f"demo model: training a {VOCAB_SIZE}-token BPE tokenizer", flush=True)
    tok = Tokenizer(models.BPE(unk_token=UNK))
    # Words stand alone (no leading space), so "navy" in a message and in `"colour": "navy"` is the same token:
    # the payload is then copied from the message, which a tiny model learns far faster than a token-to-token map.
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(WORD_SPLIT), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, special_tokens=[PAD, BOS, EOS, UNK, *ROLE_TOKENS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts + _json_syntax_samples(), trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=BOS, eos_token=EOS, pad_token=PAD, unk_token=UNK,
                                   extra_special_tokens=list(ROLE_TOKENS), chat_template=CHAT_TEMPLATE,
                                   model_max_length=ARCHITECTURE["max_position_embeddings"])


def _json_syntax_samples() -> list[str]:
    """A few generic JSON shapes so the tokenizer has merges for punctuation beyond the demo payload."""
    return ['{"a": [1, 2.5, true, false, null], "b": {"c": "d"}}', '[{"key": "value"}, {"key": 0}]'] * 20


def pretrain(model, tokenizer, texts: list[str], steps: int) -> None:
    """Next-token training on packed blocks of unpaired documents, each framed bos ... eos."""
    import torch

    if "OMP_NUM_THREADS" not in os.environ:  # the user's setting wins; on a shared machine 1 thread is faster
        torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    ids: list[int] = []
    for text in texts:
        ids += [tokenizer.bos_token_id, *tokenizer(text, add_special_tokens=False)["input_ids"], tokenizer.eos_token_id]
    block, batch = PRETRAIN["block_size"], PRETRAIN["batch_size"]
    blocks = torch.tensor(ids[: len(ids) // block * block]).view(-1, block)
    generator = torch.Generator().manual_seed(SEED)
    optimizer = torch.optim.AdamW(model.parameters(), lr=PRETRAIN["learning_rate"], weight_decay=0.01)
    warmup = PRETRAIN["warmup_steps"]
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.05, 1 - s / steps))
    model.train()
    started, every = time.perf_counter(), max(50, steps // 20)
    for step in range(1, steps + 1):
        rows = blocks[torch.randint(len(blocks), (batch,), generator=generator)]
        loss = model(input_ids=rows, labels=rows).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        if step % every == 0 or step == steps:
            print(f"demo model: step {step}/{steps}  loss {loss.item():.3f}  ({time.perf_counter() - started:.0f} s)",
                  flush=True)
