"""Closed vocabularies of the spec language. The spec validates against these names; the evals package
implements every metric named here (a test keeps the two in step), so the spec never imports the evals."""

from __future__ import annotations

from dataclasses import dataclass

NEEDS = ("new_knowledge", "realtime_updates", "strict_format", "niche_vocabulary", "tone_style",
         "domain_expertise", "reduce_prompt_cost", "citations")
APPROACHES_TRIED = ("prompting", "few_shot_prompting", "rag", "fine_tuning")
DATA_FORMATS = ("instruction", "prompt_completion", "chat", "preference")
METHODS = ("auto", "full", "lora", "qlora", "dpo")
TRACKERS = ("none", "tensorboard", "mlflow", "wandb")
BASELINES = ("base_zero_shot", "base_few_shot")
SCHEDULERS = ("linear", "cosine", "constant", "constant_with_warmup")
OPTIMIZERS = ("adamw_torch", "adamw_8bit", "paged_adamw_8bit")
PRECISIONS = ("auto", "bf16", "fp16", "fp32")
SEVERITIES = ("error", "warning", "off")
FIXED_SLICES = ("all", "adversarial", "regression")


@dataclass(frozen=True)
class MetricInfo:
    higher_is_better: bool
    needs: str | None = None  # the spec field a metric requires: "pattern", "schema"
    unit: str = ""
    doc: str = ""


METRICS: dict[str, MetricInfo] = {
    "exact_match": MetricInfo(True, doc="prediction equals the reference after trimming whitespace"),
    "token_f1": MetricInfo(True, doc="SQuAD-style token overlap F1"),
    "rouge_l": MetricInfo(True, doc="ROUGE-L F-measure (rouge-score)"),
    "bleu": MetricInfo(True, doc="corpus BLEU, 0-100 (sacrebleu)"),
    "chrf": MetricInfo(True, doc="corpus chrF, 0-100 (sacrebleu)"),
    "json_valid": MetricInfo(True, doc="share of predictions that parse as JSON"),
    "json_schema": MetricInfo(True, needs="schema", doc="share of predictions valid under a JSON Schema"),
    "regex": MetricInfo(True, needs="pattern", doc="share of predictions fully matching a pattern"),
    "contains": MetricInfo(True, needs="pattern", doc="share of predictions containing a string"),
    "perplexity": MetricInfo(False, doc="perplexity of the reference under the model"),
    "latency_p50": MetricInfo(False, unit="ms", doc="median generation latency per example"),
    "latency_p95": MetricInfo(False, unit="ms", doc="95th-percentile generation latency per example"),
    "recall_at_k": MetricInfo(True, doc="share of the eval row's gold documents among those retrieved (RAG)"),
    "mrr": MetricInfo(True, doc="mean reciprocal rank of the first gold document retrieved (RAG)"),
    "cites": MetricInfo(True, doc="share of answers citing a retrieved document as [id] (RAG)"),
}

# Audit checks (a contract: these names appear in `audit.findings[].check`) and their default severity.
AUDIT_CHECKS: dict[str, str] = {
    "parse_error": "error", "schema_error": "error", "empty_field": "error", "placeholder": "warning",
    "exact_duplicate": "warning", "near_duplicate": "warning", "conflicting_label": "warning", "leakage": "error",
    "too_long": "warning", "format_mismatch": "warning", "size": "warning",
}

# The canonical fields of each data format; `data.fields` maps these onto a user's column names.
FORMAT_FIELDS: dict[str, tuple[str, ...]] = {
    "instruction": ("instruction", "input", "output"),
    "prompt_completion": ("prompt", "completion"),
    "chat": ("messages",),
    "preference": ("prompt", "chosen", "rejected"),
}
OPTIONAL_FIELDS = ("id", "tags")
