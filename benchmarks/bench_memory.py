"""Memory estimate vs measured peak of real CPU training steps.

For each case a subprocess imports torch and transformers, records its RSS (the baseline), builds a random-init
model, trains a few steps, and reports its peak RSS (VmHWM) minus the baseline. The estimate is
ftspec.compiler.memory's for the same run on CPU (fp32 weights and activations, AdamW 32-bit).
Run: `python benchmarks/bench_memory.py`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass

from ftspec.compiler.memory import GIB, TrainSetup, dims_from_config, estimate_memory

TINY = {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 4,
        "intermediate_size": 176, "vocab_size": 2000, "max_position_embeddings": 512, "tie_word_embeddings": False}
SMALL = {"hidden_size": 512, "num_hidden_layers": 8, "num_attention_heads": 8, "num_key_value_heads": 4,
         "intermediate_size": 1408, "vocab_size": 8000, "max_position_embeddings": 1024,
         "tie_word_embeddings": False}
# Other families at a similar size: a GPT-2 (learned positions, plain MLP) and a Flan-T5 (encoder-decoder, gated MLP)
GPT2_SMALL = {"model_type": "gpt2", "n_embd": 512, "n_layer": 8, "n_head": 8, "n_positions": 1024, "vocab_size": 8000}
T5_SMALL = {"model_type": "t5", "d_model": 512, "d_ff": 1408, "d_kv": 64, "num_heads": 8, "num_layers": 4,
            "num_decoder_layers": 4, "vocab_size": 8000, "feed_forward_proj": "gated-gelu", "decoder_start_token_id": 0}

CHILD = r"""
import json, sys
args = json.loads(sys.argv[1])
import torch, transformers, peft  # noqa: F401 - imported before the baseline
from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM
torch.manual_seed(0)
torch.set_num_threads(1)

def status_kib(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))

def rss():
    return status_kib("VmRSS") * 1024

baseline = rss()
settings = dict(args["config"])
config = AutoConfig.for_model(settings.pop("model_type", "llama"), **settings, attn_implementation="sdpa")
seq2seq = config.is_encoder_decoder
model = (AutoModelForSeq2SeqLM if seq2seq else AutoModelForCausalLM).from_config(config)
if args["method"] == "lora":
    from peft import LoraConfig, get_peft_model
    model = get_peft_model(model, LoraConfig(r=args["lora_r"], lora_alpha=2 * args["lora_r"], lora_dropout=0.05,
                                             target_modules="all-linear",
                                             task_type="SEQ_2_SEQ_LM" if seq2seq else "CAUSAL_LM"))
if args["checkpointing"]:
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
model.train()
trainable = [p for p in model.parameters() if p.requires_grad]
optimizer = torch.optim.AdamW(trainable, lr=1e-4)
ids = torch.randint(0, args["config"]["vocab_size"], (args["batch"], args["seq"]))
for _ in range(args["steps"]):
    loss = model(input_ids=ids, labels=ids).loss
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
# VmHWM is this address space's own peak; ru_maxrss would carry the parent's peak over fork and exec, and a
# pytest worker that loaded models earlier would then inflate every measurement.
peak = status_kib("VmHWM") * 1024
print(json.dumps({"baseline": baseline, "peak": peak, "params": sum(p.numel() for p in model.parameters()),
                  "trainable": sum(p.numel() for p in trainable)}))
"""


@dataclass(frozen=True)
class Case:
    name: str
    config: dict
    method: str  # full | lora
    seq: int = 256
    batch: int = 4
    checkpointing: bool = False
    lora_r: int = 16
    steps: int = 3

    def setup(self) -> TrainSetup:
        return TrainSetup(method=self.method, dtype="fp32", mixed_precision=False, optimizer_bits=32,
                          seq_len=self.seq, batch_size=self.batch, gradient_checkpointing=self.checkpointing,
                          lora_r=self.lora_r, lora_targets="all-linear", device="cpu")


def measure(case: Case) -> dict:
    """Peak RSS over the baseline, in bytes, of a real CPU run of the case (in a fresh subprocess)."""
    args = {"config": case.config, "method": case.method, "seq": case.seq, "batch": case.batch,
            "checkpointing": case.checkpointing, "lora_r": case.lora_r, "steps": case.steps}
    # glibc keeps freed small chunks in its heap, so RSS would count dead activations; a fixed mmap threshold
    # returns every large tensor to the OS when freed, and RSS then follows the live bytes.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false", "MALLOC_MMAP_THRESHOLD_": "131072"}
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(args)], capture_output=True, text=True,
                          env=env, check=True, timeout=300)
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(case: Case) -> dict:
    measured = measure(case)
    estimate = estimate_memory(dims_from_config(case.config), case.setup())
    used = (measured["peak"] - measured["baseline"]) / GIB
    return {"case": case.name, "params": measured["params"], "trainable": measured["trainable"],
            "measured_gib": used, "estimated_gib": estimate.total_gib,
            "error": (estimate.total_gib - used) / used, "breakdown": estimate.breakdown}


CASES = (
    Case("tiny full", TINY, "full"),
    Case("tiny lora", TINY, "lora"),
    Case("small full", SMALL, "full"),
    Case("small full ckpt", SMALL, "full", checkpointing=True),
    Case("small lora", SMALL, "lora"),
    Case("small lora ckpt", SMALL, "lora", checkpointing=True),
    Case("small lora seq512", SMALL, "lora", seq=512, batch=2),
    Case("gpt2 full", GPT2_SMALL, "full"),
    Case("gpt2 lora", GPT2_SMALL, "lora"),
    Case("t5 full", T5_SMALL, "full"),
    Case("t5 lora", T5_SMALL, "lora"),
)


def main() -> None:
    print(f"{'case':<20}{'params':>12}{'measured MiB':>14}{'estimate MiB':>14}{'error':>8}")
    for case in CASES:
        row = compare(case)
        print(f"{row['case']:<20}{row['params']:>12,}{row['measured_gib'] * 1024:>14.1f}"
              f"{row['estimated_gib'] * 1024:>14.1f}{row['error']:>+8.1%}", flush=True)


if __name__ == "__main__":
    main()
