"""The spec language v1, as written by the user. Key names are a public contract: extend them, keep them.

`None` means "not set": the compiler resolves it (with a reason) into the Plan.
"""

# No `from __future__ import annotations`: pydantic would have to eval every annotation string (~6 ms a run).
import math
import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)

from ftspec.metrics import METRICS
from ftspec.spec.hints import did_you_mean, one_of
from ftspec.spec.threshold import Threshold, parse_threshold

Need = Literal["new_knowledge", "realtime_updates", "strict_format", "niche_vocabulary", "tone_style",
               "domain_expertise", "reduce_prompt_cost", "citations"]
TriedApproach = Literal["prompting", "few_shot_prompting", "rag", "fine_tuning"]
DataFormat = Literal["instruction", "prompt_completion", "chat", "preference"]
def registered_method(name: str) -> str:
    """`method:` accepts auto, an adapter (full, lora, qlora) or an objective in the methods table (dpo)."""
    from ftspec.compiler.methods import spec_methods  # the table is pure data; imported here, where it is needed

    allowed = spec_methods()
    if name not in allowed:
        raise ValueError(f"{name!r} is not allowed here; " + (did_you_mean(name, allowed) or one_of(allowed)))
    return name


def _method_schema() -> dict:
    from ftspec.compiler.methods import spec_methods

    return {"default": "auto", "enum": list(spec_methods()), "title": "Method", "type": "string"}


Method = Annotated[str, AfterValidator(registered_method), WithJsonSchema(_method_schema())]
Tracker = Literal["none", "tensorboard", "mlflow", "wandb"]
BaselineName = Literal["base_zero_shot", "base_few_shot"]
Severity = Literal["error", "warning", "off"]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Fraction = Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)]

def _number(value: float) -> str:
    """10,000,000 rather than 1e+07; 0.001 and 1e+308 as written."""
    return f"{int(value):,}" if float(value).is_integer() and abs(value) < 1e15 else f"{value:g}"


def _range_text(lo: float, hi: float, above: bool, below: bool) -> str:
    if not (above or below):
        return f"from {_number(lo)} to {_number(hi)}"
    if not above:
        return f"from {_number(lo)} to below {_number(hi)}"
    return f"above {_number(lo)} and {'below' if below else 'at most'} {_number(hi)}"


def ranged(kind: type, lo: float, hi: float, *, above: bool = False, below: bool = False, why: str = "") -> object:
    """A number in a sensible range, [lo, hi] (`above`: lo excluded; `below`: hi excluded). A value past it is an
    error whose hint gives the range (`epochs: 1e308` would train forever; `gpu_memory_gb: 1e400` is infinity);
    infinities and NaN are refused. The bounds also go into the JSON Schema for editors."""
    hint = f"use a number {_range_text(lo, hi, above, below)}" + (f" ({why})" if why else "")

    def finite(value: object) -> object:
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{value} is not a finite number; {hint}")
        return value

    def within(value: float) -> float:
        low_ok = value > lo if above else value >= lo
        high_ok = value < hi if below else value <= hi
        if not (low_ok and high_ok):
            raise ValueError(f"{_number(value)} is out of range; {hint}")
        return value

    bounds = {"exclusiveMinimum" if above else "minimum": lo, "exclusiveMaximum" if below else "maximum": hi}
    return Annotated[kind, BeforeValidator(finite), AfterValidator(within), Field(json_schema_extra=bounds)]


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
ParamCount = Annotated[ranged(float, 0, 1e13, above=True, why="parameters: 10T is past any model today"),
                       BeforeValidator(parse_params), WithJsonSchema(_PARAMS_SCHEMA)]
PathList = Annotated[list[str], BeforeValidator(lambda v: [v] if isinstance(v, str) else v), Field(min_length=1),
                     WithJsonSchema(_PATHS_SCHEMA)]

class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

class Tried(Strict):
    approach: TriedApproach
    scores: dict[Annotated[str, AfterValidator(registered_metric)], float] = Field(default_factory=dict)
    notes: str | None = None

class Constraints(Strict):
    gpu_memory_gb: ranged(float, 0, 1024, above=True, why="GB of one GPU; the largest hold under 300") | None = \
        Field(None, description="memory of one GPU, in GB")
    gpus: ranged(int, 1, 64, why="GPUs in one node") = Field(1, description="GPUs per node")
    nodes: ranged(int, 1, 1024) = 1
    max_latency_ms: ranged(float, 0, 3_600_000, above=True, why="milliseconds, at most an hour") | None = None
    budget_usd: ranged(float, 0, 1e9, above=True, why="US dollars for training") | None = None
    gpu_hour_usd: ranged(float, 0, 1000, above=True, why="US dollars per GPU hour") | None = \
        Field(None, description="price of one GPU hour, for the training cost")

class Traffic(Strict):
    requests_per_day: ranged(float, 0, 1e10, above=True)
    prompt_tokens: ranged(float, 0, 1e7, above=True, why="tokens per request") = \
        Field(description="prompt tokens per request today (with its few-shot examples)")
    completion_tokens: ranged(float, 0, 1e7, above=True, why="tokens per request")
    finetuned_prompt_tokens: ranged(float, 0, 1e7, above=True, why="tokens per request") | None = \
        Field(None, description="prompt tokens per request once fine-tuned")
    usd_per_million_prompt_tokens: ranged(float, 0, 10_000, above=True, why="US dollars") = 0.5
    usd_per_million_completion_tokens: ranged(float, 0, 10_000, above=True, why="US dollars") = 1.5

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
    criterion: str | None = Field(None, description="human_rating, human_pass_rate: a review.rubric criterion")
    gate_on_lower_bound: bool | None = Field(None, description="gate on the CI's lower bound (default: evaluation's)")
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

class Quality(Strict):
    min_examples: ranged(int, 1, 1_000_000_000) = 50
    max_duplicate_ratio: float = Field(0.05, ge=0, le=1)
    near_duplicate_threshold: float = Field(0.9, gt=0, le=1)
    max_tokens: ranged(int, 1, 10_000_000, why="tokens") | None = \
        Field(None, description="longest row allowed; default training.max_seq_length")
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
    documents: PathList | None = Field(None, description="the corpus for retrieval: files or folders of .txt, .md, "
                                                         "or JSONL rows with id and text")

class ModelSpec(Strict):
    name: str
    path: str | None = None
    hub: str | None = None
    params: ParamCount | None = None
    context_window: ranged(int, 1, 10_000_000, why="tokens; the longest contexts today are 10M") | None = None
    license: str | None = None
    trust_remote_code: bool = False

class LoraSpec(Strict):
    r: ranged(int, 1, 1024, why="the adapter's rank; 8-64 is usual") | None = None
    alpha: ranged(float, 0, 4096, above=True, why="usually 1-2 x the rank") | None = None
    dropout: ranged(float, 0, 1, below=True, why="a probability") | None = None
    target_modules: list[str] | Literal["all-linear"] | None = None

class EarlyStopping(Strict):
    patience: ranged(int, 1, 1000) = Field(2, description="evaluations without improvement before stopping")
    min_delta: ranged(float, 0, 100, why="an improvement of the eval loss") = 0.0

class Training(Strict):
    learning_rate: ranged(float, 0, 1, above=True, why="fine-tuning uses 1e-6 to 1e-3") | Literal["auto"] = "auto"
    epochs: ranged(float, 0, 1000, above=True, why="passes over the training data") | Literal["auto"] = "auto"
    batch_size: ranged(int, 1, 4096, why="rows per device and step") | None = None
    gradient_accumulation: ranged(int, 1, 4096) | None = None
    weight_decay: ranged(float, 0, 1) | None = None
    scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] | None = None
    warmup_ratio: ranged(float, 0, 1, below=True, why="a share of the training steps") | None = None
    max_seq_length: ranged(int, 8, 10_000_000, why="tokens, within the model's context window") | None = None
    seed: ranged(int, 0, 2**32 - 1) = 42
    early_stopping: bool | EarlyStopping = False
    gradient_checkpointing: bool | None = None
    optimizer: Literal["adamw_torch", "adamw_8bit", "paged_adamw_8bit"] | None = None
    precision: Literal["auto", "bf16", "fp16", "fp32"] = "auto"
    eval_steps: ranged(int, 1, 1_000_000_000) | None = None
    lora: LoraSpec = Field(default_factory=LoraSpec)
    dpo_beta: ranged(float, 0, 10, above=True, why="the DPO paper uses 0.1") = 0.1
    reward_model: str | None = Field(None, description="method grpo: a trained reward model's folder (a "
                                                       "reward_model run's model/), relative to the spec")
    grpo_beta: ranged(float, 0, 10, why="the KL penalty to the reference; TRL's default is 0") | None = None
    num_generations: ranged(int, 2, 64, why="completions sampled per prompt, compared with each other") | None = None
    kto_beta: ranged(float, 0, 10, above=True, why="the KL penalty to the reference; TRL uses 0.1") | None = None

class Baseline(Strict):
    name: BaselineName
    k: ranged(int, 1, 64) = Field(3, description="few-shot examples drawn from train (base_few_shot)")

class Generation(Strict):
    max_new_tokens: ranged(int, 1, 131_072, why="tokens per answer") = 128
    temperature: ranged(float, 0, 5, why="0 is greedy; above 2 is noise") = 0.0
    batch_size: ranged(int, 1, 4096) = 16

class Evaluation(Strict):
    baselines: list[Baseline] = Field(default_factory=lambda: [Baseline(name="base_zero_shot"),
                                                               Baseline(name="base_few_shot")])
    generation: Generation = Field(default_factory=Generation)
    confidence: ranged(float, 0, 1, above=True, below=True, why="e.g. 0.95") = 0.95
    bootstrap_samples: ranged(int, 100, 1_000_000, why="resamples; 1000 is plenty") = 1000
    gate_on_lower_bound: bool = False
    max_examples: ranged(int, 1, 1_000_000_000) | None = Field(None, description="cap on eval rows per slice")

def tolerance_key(name: str) -> str:
    """A metric name (`exact_match`) or a metric label (`regex(^a)`), as `ftspec compare` shows it."""
    registered_metric(name.split("(", 1)[0])
    return name

class RegressionGates(Strict):
    """Non-inferiority gates for `ftspec eval --against promoted|RUN`: on the paired difference candidate - ref."""
    tolerance: dict[Annotated[str, AfterValidator(tolerance_key)], ThresholdField] = Field(
        default_factory=dict, description="metric -> the change it tolerates, checked on the difference's CI bound: "
        "'>= -0.01' (a drop of at most 0.01), '<= 20' (latency: at most 20 ms slower)")
    slices: list[str] | None = Field(None, description="slices to gate (default: every slice `ftspec compare` shows)")

class Retrieval(Strict):
    retriever: Literal["bm25"] = "bm25"
    chunk_size: int = Field(200, ge=8, description="words per passage")
    overlap: int = Field(40, ge=0, description="words a passage shares with the previous one")
    k: int = Field(3, ge=1, description="passages put in the prompt")

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

class Launch(Strict):
    """How training starts past one process: the backend and where the nodes meet (see docs/scale.md)."""
    backend: Literal["auto", "ddp", "fsdp", "deepspeed_zero2", "deepspeed_zero3"] = Field(
        "auto", description="auto: DDP when the model fits one GPU, else FSDP")
    main_address: str = Field("127.0.0.1", min_length=1, max_length=253, pattern=r"^[A-Za-z0-9][A-Za-z0-9.:_-]*$",
                              description="the address of the node with rank 0, reachable from every node")
    main_port: ranged(int, 1024, 65535, why="a TCP port open between the nodes") = 29500
    cpu: bool = Field(False, description="run the processes on CPU over gloo (tests, machines without a GPU)")


# -- sweep (issue 16): a search over the training keys, scored on the dev split carved from train ------------------

def sweep_objective(name: str) -> str:
    return name if name == "eval_loss" else registered_metric(name)


class SweepParam(Strict):
    """One searched key: `values` (a list: the grid's points, the Bayesian search's choices) or a `low`-`high` range
    (`log: true` samples it log-uniformly; a grid takes `grid_points` points across it)."""

    values: Annotated[list[float | str], Field(min_length=1, max_length=64)] | None = None
    low: ranged(float, 0, 1e6, why="the smallest value searched") | None = None
    high: ranged(float, 0, 1e6, why="the largest value searched") | None = None
    log: bool = False
    grid_points: ranged(int, 2, 16, why="points a grid takes across the range") = 3

    @model_validator(mode="after")
    def one_form(self) -> "SweepParam":
        if (self.values is None) == (self.low is None or self.high is None):
            raise ValueError("give either `values: [...]` or both `low` and `high`")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low ({self.low:g}) is above high ({self.high:g})")
        if self.log and self.low is not None and self.low <= 0:
            raise ValueError("a log range needs low above 0")
        return self


class SweepSpace(Strict):
    learning_rate: SweepParam | None = None
    epochs: SweepParam | None = None
    batch_size: SweepParam | None = None
    gradient_accumulation: SweepParam | None = None
    weight_decay: SweepParam | None = None
    scheduler: SweepParam | None = None
    warmup_ratio: SweepParam | None = None
    lora_r: SweepParam | None = None
    lora_alpha: SweepParam | None = None
    lora_dropout: SweepParam | None = None
    dpo_beta: SweepParam | None = None


class Sweep(Strict):
    space: SweepSpace = Field(default_factory=SweepSpace, description="the training keys searched")
    objective: Annotated[str, AfterValidator(sweep_objective)] = Field(
        "eval_loss", description="eval_loss or one of the spec's metrics, scored on the dev split, never the eval set")
    direction: Literal["minimize", "maximize"] | None = Field(None, description="default: the objective's own")
    strategy: Literal["grid", "bayesian", "grid_then_bayesian"] = "grid_then_bayesian"
    max_trials: ranged(int, 1, 10_000, why="trials, the grid's included") = 8
    max_gpu_hours: ranged(float, 0, 1e6, above=True, why="GPU-hours from the cost estimate") | None = None
    parallel: ranged(int, 1, 64, why="trials at once; 1 on CPU") = 1
    max_steps: ranged(int, 1, 1_000_000_000, why="optimizer steps per trial") | None = Field(
        None, description="cap each trial's steps (short trials); the full run is not capped")
    pruning: bool = Field(True, description="stop a trial whose dev loss trails the median of earlier trials")
    seed: ranged(int, 0, 2**32 - 1) = 42



# -- review (issue 17): what people rate, how many annotators per task, how many rows
ReviewScale = Literal["1-3", "1-5", "1-7", "1-10", "pass_fail"]


class Criterion(Strict):
    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")]
    scale: ReviewScale = "1-5"
    description: str | None = None


class Review(Strict):
    rubric: list[Criterion] = Field(default_factory=list, description="criteria annotators rate one output on")
    annotators_per_task: ranged(int, 1, 50, why="people who judge each task, to measure agreement") = 1
    sample: ranged(int, 1, 100_000, why="rows per export") = 100
    seed: ranged(int, 0, 2**32 - 1) | None = Field(None, description="the sample's and the sides' seed; default "
                                                                      "training.seed")
    min_agreement: ranged(float, -1, 1, why="Krippendorff's alpha; 0.667 is the usual floor") | None = \
        Field(None, description="fail the report when annotators agree less than this")


class TrackerSettings(Strict):
    backend: Tracker
    uri: Annotated[str, Field(min_length=1, max_length=2000)] | None = Field(
        None, description="MLflow's tracking URI (sqlite:///..., file:///..., http://host:5000) for training, eval "
                          "and sweeps; default: sqlite:///mlflow.db beside the spec. MLFLOW_TRACKING_URI overrides it")

    @model_validator(mode="after")
    def _uri_is_mlflows(self):
        if self.uri is not None and self.backend != "mlflow":
            raise ValueError(f"`uri` is MLflow's tracking URI; {self.backend} takes none")
        return self


Tracking = Tracker | TrackerSettings | Annotated[list[Tracker | TrackerSettings], Field(min_length=1, max_length=4)]


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
    tracking: Tracking = Field("none", description="one tracker, or several: [tensorboard, mlflow]; a tracker "
                                                   "with settings: {backend: mlflow, uri: ...}")
    regression: RegressionGates = Field(default_factory=RegressionGates)
    retrieval: Retrieval = Field(default_factory=Retrieval)
    monitoring: Annotated[Monitoring, AfterValidator(watch_before_refine)] = Field(
        default_factory=Monitoring, description="`ftspec monitor`: production logs")
    launch: Launch = Field(default_factory=Launch)
    sweep: Sweep | None = Field(None, description="`ftspec sweep`: the hyperparameter search")
    review: Review = Field(default_factory=Review, description="`ftspec review`: human ratings and preferences")
