"""`ftspec init`: a commented starter project that passes `ftspec check` as written."""

from __future__ import annotations

import json
from pathlib import Path

from ftspec.errors import UsageError
from ftspec.fsutil import atomic_write_text
from ftspec.spec.schema import schema_json

STARTER_SPEC = """\
# yaml-language-server: $schema=./ftspec.schema.json
# A starter ftspec project. Run `ftspec check project.yaml`, then edit each section for your task.
ftspec: 1
name: ticket-router
description: Route support tickets to the team that handles them.

requirements:
  objective: Label each incoming support ticket with the one team that should handle it.
  use_cases:
    - Route tickets from the help-desk inbox to billing, shipping or tech
  # What the task needs decides prompting vs RAG vs fine-tuning. One or more of: new_knowledge,
  # realtime_updates, strict_format, niche_vocabulary, tone_style, domain_expertise, reduce_prompt_cost, citations
  needs: [strict_format]
  # What you have tried already, with the scores it reached (fine-tuning is for when these plateau).
  tried:
    - approach: few_shot_prompting
      scores: {exact_match: 0.71}
  constraints: {gpu_memory_gb: 24, gpus: 1}

# Success, written down before training. A metric without a threshold is an error.
metrics:
  - {name: exact_match, threshold: ">= 0.90"}
  - {name: exact_match, vs_baseline: base_few_shot, threshold: ">= +0.05"}

data:
  format: prompt_completion        # instruction | prompt_completion | chat | preference
  train: data/train.jsonl          # paths are relative to this file
  eval: data/eval.jsonl            # or `holdout: 0.1` to split train
  quality:
    min_examples: 10               # raise this as your data grows: the seeds suggest about 1,000 examples

models:                            # candidates, smallest first; `path:` for a local folder
  - {name: qwen-0.5b, hub: Qwen/Qwen2.5-0.5B-Instruct, params: 0.5B, license: apache-2.0}

method: auto                       # auto | full | lora | qlora | dpo
"""

_TICKETS = [
    ("I was charged twice for my order last week.", "billing"),
    ("Can I get a refund for the annual plan?", "billing"),
    ("My invoice shows the wrong VAT number.", "billing"),
    ("Why did my card get declined at checkout?", "billing"),
    ("Please update the billing address on my account.", "billing"),
    ("The parcel says delivered but nothing arrived.", "shipping"),
    ("Can you ship to a PO box in Norway?", "shipping"),
    ("My package has been stuck in customs for ten days.", "shipping"),
    ("The courier left the box in the rain and it is soaked.", "shipping"),
    ("How long does express delivery take to Lisbon?", "shipping"),
    ("The app crashes when I open the settings page.", "tech"),
    ("I cannot log in after resetting my password.", "tech"),
    ("The export to CSV button does nothing in Firefox.", "tech"),
    ("Two-factor codes never reach my phone.", "tech"),
    ("The dashboard shows a blank page since the update.", "tech"),
    ("My discount code was not applied to the total.", "billing"),
]
_EVAL = [
    ("I see a charge I do not recognise on my statement.", "billing"),
    ("Where is my order? Tracking has not moved in a week.", "shipping"),
    ("The mobile app freezes on the loading screen.", "tech"),
    ("Do you deliver on Saturdays?", "shipping"),
]


def starter_files(directory: Path) -> list[Path]:
    """The files `ftspec init` writes, the spec first."""
    return [directory / "project.yaml", directory / "ftspec.schema.json", directory / "data" / "train.jsonl",
            directory / "data" / "eval.jsonl"]


def scaffold(directory: Path) -> list[str]:
    """Write the starter project; refuse to overwrite anything. Returns the lines to print."""
    targets = starter_files(directory)
    spec_path = targets[0]
    existing = [str(p) for p in targets if p.exists()]
    if existing:
        raise UsageError(f"{existing[0]} already exists; ftspec init never overwrites files",
                         "choose an empty folder: `ftspec init my-project`")
    (directory / "data").mkdir(parents=True, exist_ok=True)
    atomic_write_text(spec_path, STARTER_SPEC)
    atomic_write_text(directory / "ftspec.schema.json", schema_json() + "\n")
    atomic_write_text(directory / "data" / "train.jsonl", _jsonl(_TICKETS))
    atomic_write_text(directory / "data" / "eval.jsonl", _jsonl(_EVAL))
    return [f"created {p}" for p in targets] + [
        "", f"next: ftspec check {spec_path}", "then replace the example data and models with your own."]


def _jsonl(rows: list[tuple[str, str]]) -> str:
    return "".join(json.dumps({"prompt": p, "completion": c}) + "\n" for p, c in rows)

