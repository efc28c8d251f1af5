"""Time `make_demo_model` and measure what the demo is meant to show: LoRA learns the task, the base model does not.

Builds the tiny base model into a temp folder (default pre-training), then, unless --no-lora, fine-tunes it with
LoRA using the `training:` settings of specs/demo/project.yaml (prompt = the chat template's user turn, loss on the
completion only, like the generated train.py) and scores greedy exact match on eval.jsonl and adversarial.jsonl,
next to the base model zero-shot and 3-shot. Usage:
    OMP_NUM_THREADS=1 python benchmarks/bench_demo_model.py [--threads N] [--no-lora] [--pretrain-steps N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

from ftspec.demo.model import make_demo_model
from ftspec.spec.load import load_spec

DEMO = Path(__file__).resolve().parents[1] / "specs" / "demo"


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def prompt_ids(tokenizer, prompt: str, shots: list[dict] = ()) -> list[int]:
    messages = []
    for shot in shots:
        messages += [{"role": "user", "content": shot["prompt"]}, {"role": "assistant", "content": shot["completion"]}]
    messages.append({"role": "user", "content": prompt})
    return tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=True)["input_ids"]


def exact_match(model, tokenizer, rows: list[dict], shots: list[dict] = ()) -> float:
    """Greedy decoding, batched with left padding; a prediction counts only if it is the reference, exactly."""
    import torch

    model.eval()
    hits = 0
    for start in range(0, len(rows), 32):
        chunk = rows[start:start + 32]
        ids = [prompt_ids(tokenizer, row["prompt"], shots) for row in chunk]
        width = max(map(len, ids))
        inputs = torch.tensor([[tokenizer.pad_token_id] * (width - len(x)) + x for x in ids])
        mask = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in ids])
        with torch.no_grad():
            out = model.generate(input_ids=inputs, attention_mask=mask, max_new_tokens=40, do_sample=False,
                                 pad_token_id=tokenizer.pad_token_id)
        for row, generated in zip(chunk, out[:, width:], strict=True):
            hits += tokenizer.decode(generated, skip_special_tokens=True).strip() == row["completion"]
    return hits / len(rows)


def lora_finetune(model, tokenizer, rows: list[dict], training) -> tuple[object, float]:
    """A plain loop with the spec's LoRA settings; returns the adapted model and the seconds it trained."""
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(training.seed)
    lora = training.lora
    model = get_peft_model(model, LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout or 0.0,
                                             target_modules=lora.target_modules or "all-linear",
                                             task_type="CAUSAL_LM"))
    examples = []
    for row in rows:
        prompt = prompt_ids(tokenizer, row["prompt"])
        completion = tokenizer(row["completion"] + tokenizer.eos_token, add_special_tokens=False)["input_ids"]
        examples.append((prompt + completion, [-100] * len(prompt) + completion))
    batch_size = training.batch_size
    steps = int(len(examples) / batch_size * training.epochs)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=training.learning_rate,
                                  weight_decay=training.weight_decay or 0.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / steps)
    rng, order = random.Random(training.seed), []
    model.train()
    started = time.perf_counter()
    for _ in range(steps):
        if len(order) < batch_size:
            order = list(range(len(examples)))
            rng.shuffle(order)
        batch = [examples[order.pop()] for _ in range(batch_size)]
        width = max(len(ids) for ids, _ in batch)
        ids = torch.tensor([x + [tokenizer.pad_token_id] * (width - len(x)) for x, _ in batch])
        labels = torch.tensor([y + [-100] * (width - len(y)) for _, y in batch])
        mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x, _ in batch])
        model(input_ids=ids, attention_mask=mask, labels=labels).loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # as the Trainer does (max_grad_norm)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
    return model, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", 2)))
    parser.add_argument("--pretrain-steps", type=int, default=None, help="default: make_demo_model's own")
    parser.add_argument("--no-lora", action="store_true", help="only time the model build")
    args = parser.parse_args()

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(args.threads)
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        extra = {} if args.pretrain_steps is None else {"pretrain_steps": args.pretrain_steps}
        folder = make_demo_model(Path(tmp) / "tiny-llama", **extra)
        figures["build_s"] = time.perf_counter() - started
        if not args.no_lora:
            spec = load_spec(DEMO / "project.yaml").spec
            train, evals = read_jsonl(DEMO / "data" / "train.jsonl"), read_jsonl(DEMO / "data" / "eval.jsonl")
            adversarial = read_jsonl(DEMO / "data" / "adversarial.jsonl")
            tokenizer = AutoTokenizer.from_pretrained(folder)
            base = AutoModelForCausalLM.from_pretrained(folder)
            figures["base_zero_shot_em"] = exact_match(base, tokenizer, evals)
            figures["base_3_shot_em"] = exact_match(base, tokenizer, evals, shots=train[:3])
            tuned, figures["lora_train_s"] = lora_finetune(base, tokenizer, train, spec.training)
            figures["lora_em"] = exact_match(tuned, tokenizer, evals)
            figures["lora_adversarial_em"] = exact_match(tuned, tokenizer, adversarial)
    for name, value in figures.items():
        print(f"{name:<22} {value:8.2f}")
    print(json.dumps({k: round(v, 3) for k, v in figures.items()}))


if __name__ == "__main__":
    main()
