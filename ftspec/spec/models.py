"""The spec language v1, as written by the user. Key names are a public contract: extend them, keep them.

`None` means "not set": the compiler resolves it (with a reason) into the Plan.
"""

# No `from __future__ import annotations`: pydantic would have to eval every annotation string (~6 ms a run).
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema

from ftspec.metrics import METRICS
from ftspec.spec.hints import did_you_mean, one_of
from ftspec.spec.threshold import Threshold, parse_threshold

Need = Literal["new_knowledge", "realtime_updates", "strict_format", "niche_vocabulary", "tone_style",
               "domain_expertise", "reduce_prompt_cost", "citations"]
TriedApproach = Literal["prompting", "few_shot_prompting", "rag", "fine_tuning"]
DataFormat = Literal["instruction", "prompt_completion", "chat", "preference"]
Method = Literal["auto", "full", "lora", "qlora", "dpo"]
Tracker = Literal["none", "tensorboard", "mlflow", "wandb"]
BaselineName = Literal["base_zero_shot", "base_few_shot"]
Severity = Literal["error", "warning", "off"]
Positive = Annotated[float, Field(gt=0)]
Fraction = Annotated[float, Field(gt=0, lt=1)]

_PARAM_SUFFIX = {"k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}

def parse_params(raw: object) -> object:
    """'7B', '0.5b', '125M' or 7e9 -> a float count of parameters."""
    if isinstance(raw, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMbBtT]?)\s*", raw)
        if not match:
            raise ValueError(f"cannot read {raw!r} as a parameter count; write '7B', '125M' or 7e9")
        number, suffix = match.groups()
        return float(number) * _PARAM_SUFFIX.get(suffix.lower(), 1)
    return raw

def registered_metric(name: str) -> str:
    if name not in METRICS:
        raise ValueError(f"unknown metric `{name}`; " + (did_you_mean(name, tuple(METRICS)) or one_of(tuple(METRICS))))
    return name


# What editors see: the forms a user writes, not the parsed objects.
_THRESHOLD_PATTERN = (r"^\s*(>=|<=|==|>|<)?\s*[+-]?[0-9.]+(e[+-]?[0-9]+)?\s*"
                      r"(%|ms|msec|milliseconds|s|secs?|seconds?)?\s*$")
_THRESHOLD_SCHEMA = {"anyOf": [{"type": "string", "pattern": _THRESHOLD_PATTERN}, {"type": "number"}],
                     "description": "'>= 0.9', '>= 90%', '<= 300' (ms for latency), '<= 2 s', or a number (>=)"}
_PARAMS_SCHEMA = {"anyOf": [{"type": "string", "pattern": r"^\s*[0-9.]+\s*[kKmMbBtT]?\s*$"}, {"type": "number"}],
                  "description": "parameter count: '7B', '125M' or 7e9"}
_PATHS_SCHEMA = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]}

ThresholdField = Annotated[Threshold, BeforeValidator(parse_threshold), PlainSerializer(str, return_type=str),
                           WithJsonSchema(_THRESHOLD_SCHEMA)]
ParamCount = Annotated[Positive, BeforeValidator(parse_params), WithJsonSchema(_PARAMS_SCHEMA)]
PathList = Annotated[list[str], BeforeValidator(lambda v: [v] if isinstance(v, str) else v), Field(min_length=1),
                     WithJsonSchema(_PATHS_SCHEMA)]

class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

class Tried(Strict):
    approach: TriedApproach
    scores: dict[Annotated[str, AfterValidator(registered_metric)], float] = Field(default_factory=dict)
    notes: str | None = None

class Constraints(Strict):
    gpu_memory_gb: Positive | None = Field(None, description="memory of one GPU, in GB")
    gpus: int = Field(1, ge=1, description="GPUs per node")
    nodes: int = Field(1, ge=1)
    max_latency_ms: Positive | None = None
    budget_usd: Positive | None = None
    gpu_hour_usd: Positive | None = Field(None, description="price of one GPU hour, for the training cost")

class Traffic(Strict):
    requests_per_day: Positive
    prompt_tokens: Positive = Field(description="prompt tokens per request today (with its few-shot examples)")
    completion_tokens: Positive
    finetuned_prompt_tokens: Positive | None = Field(None, description="prompt tokens per request once fine-tuned")
    usd_per_million_prompt_tokens: Positive = 0.5
    usd_per_million_completion_tokens: Positive = 1.5

class Requirements(Strict):
    objective: str | None = None
    use_cases: list[str] = Field(default_factory=list)
    needs: list[Need] = Field(default_factory=list)
    tried: list[Tried] = Field(default_factory=list)
    constraints: Constraints = Field(default_factory=Constraints)
    traffic: Traffic | None = None

class MetricSpec(Strict):
    name: Annotated[str, AfterValidator(registered_metric)] = Field(description="see `ftspec metrics`")
    threshold: ThresholdField
    slice: str = Field("all", description="all | adversarial | regression | a tag")
    vs_baseline: BaselineName | None = Field(None, description="gate on the margin over this baseline")
    pattern: str | None = Field(None, description="for regex and contains")
    schema_: str | dict | None = Field(None, alias="schema", description="for json_schema: a path or an inline schema")
    gate_on_lower_bound: bool | None = Field(None, description="gate on the CI's lower bound (default: evaluation's)")
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

class Quality(Strict):
    min_examples: int = Field(50, ge=1)
    max_duplicate_ratio: float = Field(0.05, ge=0, le=1)
    near_duplicate_threshold: float = Field(0.9, gt=0, le=1)
    max_tokens: int | None = Field(None, ge=1, description="longest row allowed; default training.max_seq_length")
    severity: dict[str, Severity] = Field(default_factory=dict, description="override a check's severity")

class Data(Strict):
    format: DataFormat
    train: PathList
    eval: str | None = None
    holdout: Fraction | None = None
    adversarial: str | None = None
    regression: str | None = None
    fields: dict[str, str] = Field(default_factory=dict, description="canonical field -> your column name")
    prompt_template: str | None = Field(None, description="used where the model has no chat template")
    system_prompt: str | None = None
    quality: Quality = Field(default_factory=Quality)

class ModelSpec(Strict):
    name: str
    path: str | None = None
    hub: str | None = None
    params: ParamCount | None = None
    context_window: int | None = Field(None, ge=1)
    license: str | None = None
    trust_remote_code: bool = False

class LoraSpec(Strict):
    r: int | None = Field(None, ge=1)
    alpha: float | None = Field(None, gt=0)
    dropout: float | None = Field(None, ge=0, lt=1)
    target_modules: list[str] | Literal["all-linear"] | None = None

class EarlyStopping(Strict):
    patience: int = Field(2, ge=1, description="evaluations without improvement before stopping")
    min_delta: float = Field(0.0, ge=0)

class Training(Strict):
    learning_rate: Positive | Literal["auto"] = "auto"
    epochs: Positive | Literal["auto"] = "auto"
    batch_size: int | None = Field(None, ge=1)
    gradient_accumulation: int | None = Field(None, ge=1)
    weight_decay: float | None = Field(None, ge=0)
    scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] | None = None
    warmup_ratio: float | None = Field(None, ge=0, lt=1)
    max_seq_length: int | None = Field(None, ge=8)
    seed: int = 42
    early_stopping: bool | EarlyStopping = False
    gradient_checkpointing: bool | None = None
    optimizer: Literal["adamw_torch", "adamw_8bit", "paged_adamw_8bit"] | None = None
    precision: Literal["auto", "bf16", "fp16", "fp32"] = "auto"
    eval_steps: int | None = Field(None, ge=1)
    lora: LoraSpec = Field(default_factory=LoraSpec)
    dpo_beta: Positive = 0.1

class Baseline(Strict):
    name: BaselineName
    k: int = Field(3, ge=1, description="few-shot examples drawn from train (base_few_shot)")

class Generation(Strict):
    max_new_tokens: int = Field(128, ge=1)
    temperature: float = Field(0.0, ge=0)
    batch_size: int = Field(16, ge=1)

class Evaluation(Strict):
    baselines: list[Baseline] = Field(default_factory=lambda: [Baseline(name="base_zero_shot"),
                                                               Baseline(name="base_few_shot")])
    generation: Generation = Field(default_factory=Generation)
    confidence: float = Field(0.95, gt=0, lt=1)
    bootstrap_samples: int = Field(1000, ge=100)
    gate_on_lower_bound: bool = False
    max_examples: int | None = Field(None, ge=1, description="cap on eval rows per slice")

# -- monitoring (issue 18): where production logs are and the thresholds that mean "watch" and "re-fine-tune" ------

class MonitorFields(Strict):
    prompt: str = Field("prompt", description="the log column holding the prompt the model saw")
    output: str = Field("output", description="the model's answer")
    timestamp: str = Field("timestamp", description="ISO 8601 text or seconds since the epoch")
    feedback: str | None = Field(None, description="a user rating or thumbs (bool or number), optional")
    reference: str | None = Field(None, description="a reference answer, optional: scores the gated metrics")
    latency_ms: str | None = Field("latency_ms", description="the request's latency in ms, optional")

class WatchThresholds(Strict):
    novelty: float = Field(0.20, ge=0, le=1, description="share of prompts with no near neighbour in training")
    psi: float = Field(0.10, ge=0, description="population stability index of lengths and token counts")
    ks_pvalue: float = Field(0.001, gt=0, lt=1, description="KS test p-value below this is a shift")
    oov: float = Field(0.05, ge=0, le=1, description="share of prompt words never seen in training")
    output_failure: float = Field(0.02, ge=0, le=1, description="share of outputs failing a format check")
    quality_drop: float = Field(0.05, ge=0, description="drop of a quality metric below the first window's")

class RefineThresholds(WatchThresholds):
    novelty: float = Field(0.35, ge=0, le=1)
    psi: float = Field(0.25, ge=0)
    ks_pvalue: float = Field(1e-6, gt=0, lt=1)
    oov: float = Field(0.15, ge=0, le=1)
    output_failure: float = Field(0.05, ge=0, le=1)
    quality_drop: float = Field(0.10, ge=0)

class Monitoring(Strict):
    logs: Annotated[list[str], BeforeValidator(lambda v: [v] if isinstance(v, str) else v)] = Field(
        default_factory=list, description="production logs: JSONL, CSV or Parquet, relative to the spec")
    fields: MonitorFields = Field(default_factory=MonitorFields)
    window: Literal["day", "week"] = "week"
    near_similarity: float = Field(0.3, gt=0, le=1, description="Jaccard of word sets that counts as a neighbour")
    feedback_scale: tuple[float, float] = Field((0.0, 1.0), description="lowest and highest rating, mapped to 0-1")
    min_window_rows: int = Field(30, ge=1, description="windows with fewer rows are shown, not judged")
    recent_windows: int = Field(2, ge=1, description="the overall verdict is the worst of the latest N judged windows")
    max_bad_rows: float = Field(0.05, ge=0, le=1, description="share of unreadable log rows that fails the input")
    sample_size: int = Field(200, ge=1, description="novel prompts written for labelling with refine_tune")
    watch: WatchThresholds = Field(default_factory=WatchThresholds)
    refine_tune: RefineThresholds = Field(default_factory=RefineThresholds)

def watch_before_refine(monitoring: Monitoring) -> Monitoring:
    """`watch` must come no later than `refine_tune` (a smaller p-value is the stronger evidence)."""
    for name in ("novelty", "psi", "oov", "output_failure", "quality_drop", "ks_pvalue"):
        watch, refine = getattr(monitoring.watch, name), getattr(monitoring.refine_tune, name)
        if (refine > watch) if name == "ks_pvalue" else (watch > refine):
            raise ValueError(f"watch.{name} ({watch:g}) comes after refine_tune.{name} ({refine:g}); watch is the "
                             "earlier warning")
    return monitoring

class ProjectSpec(Strict):
    ftspec: Literal[1]
    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    description: str | None = None
    requirements: Requirements = Field(default_factory=Requirements)
    metrics: list[MetricSpec] = Field(default_factory=list)
    data: Data
    models: Annotated[list[ModelSpec], Field(min_length=1)]
    method: Method = "auto"
    training: Training = Field(default_factory=Training)
    evaluation: Evaluation = Field(default_factory=Evaluation)
    tracking: Tracker = "none"
    monitoring: Annotated[Monitoring, AfterValidator(watch_before_refine)] = Field(
        default_factory=Monitoring, description="`ftspec monitor`: production logs")
