"""A small project around a zoo model (ftspec/demo/zoo.py): demo rows, a short training, a tiny eval."""

from __future__ import annotations

import json
from pathlib import Path

from ftspec.fsutil import atomic_write_text

DEMO = Path(__file__).resolve().parents[2] / "specs" / "demo"
ROWS = {"train": 8, "eval": 4}


def zoo_project(root: Path, arch: str, model_dir: Path, method: str = "lora", *, system_prompt: str | None = None,
                data_format: str = "prompt_completion", extra: str = "", metrics: str = "",
                max_new_tokens: int = 8) -> Path:
    (root / "data").mkdir(parents=True, exist_ok=True)
    for name, count in ROWS.items():
        rows = [json.loads(line) for line in (DEMO / "data" / f"{name}.jsonl").read_text().splitlines()[:count]]
        if data_format == "preference":
            rows = [{"prompt": r["prompt"], "chosen": r["completion"], "rejected": "{}"} for r in rows]
        (root / "data" / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (root / "models").mkdir(exist_ok=True)
    link = root / "models" / arch
    if not link.exists():
        link.symlink_to(model_dir.resolve(), target_is_directory=True)
    system = f"  system_prompt: {json.dumps(system_prompt)}\n" if system_prompt else ""
    text = (f"ftspec: 1\nname: zoo-{arch}\n"
            "requirements:\n  objective: Turn an order message into JSON.\n  use_cases: [orders]\n"
            "  needs: [strict_format]\n  constraints: {gpu_memory_gb: 24}\n"
            # prompting declared as tried and far off a loose perplexity bar: the decision is to fine-tune, while
            # a random-init model still passes the gates (these tests check the plumbing, not skill)
            "  tried: [{approach: few_shot_prompting, scores: {perplexity: 1.0e+15}}]\n"
            "metrics:\n  - {name: json_valid, threshold: '>= 0.0'}\n"
            "  - {name: perplexity, threshold: '<= 1000000'}\n" + metrics +
            f"data:\n  format: {data_format}\n  train: data/train.jsonl\n  eval: data/eval.jsonl\n"
            f"  quality: {{min_examples: 4}}\n{system}"
            f"models:\n  - {{name: {arch}, path: models/{arch}}}\n"
            f"method: {method}\n"
            "training:\n  epochs: 1\n  batch_size: 4\n  gradient_accumulation: 1\n  max_seq_length: 96\n"
            "  learning_rate: 1.0e-3\n" + extra +
            f"evaluation:\n  max_examples: 2\n  generation: {{max_new_tokens: {max_new_tokens}, batch_size: 2}}\n"
            "  baselines: [{name: base_zero_shot}, {name: base_few_shot, k: 2}]\n")
    spec = root / "project.yaml"
    atomic_write_text(spec, text)
    return spec
