"""Plan: the spec resolved into decisions. decide() makes it; the templates render it.

JSON names a contract: decision.approach, decision.reasons[], decision.prerequisites[] {name, met, hint},
plan.method, plan.model, plan.candidates[] {name, method, estimated_memory_gb, fits}.
"""

# pydantic models: no `from __future__ import annotations`, so pydantic need not eval annotation strings

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ftspec.compiler import methods
from ftspec.compiler.devsplit import DEV_MAX_ROWS, DEV_MIN_TRAIN_ROWS, DEV_SHARE


def _known_method(name: str) -> str:
    if not methods.is_plan_method(name):
        raise ValueError(f"unknown training method `{name}`")
    return name


Approach = Literal["prompting", "rag", "fine_tuning", "fine_tuning_and_rag"]
# full | lora | qlora (the default objective, named by its adapter) or another objective's name (dpo): methods.py
TrainMethod = Annotated[str, AfterValidator(_known_method)]
AdapterKey = Literal["lora", "qlora"]


class Reason(BaseModel):
    text: str
    spec_path: str | None = None  # dotted path of the spec value that caused it
    location: str | None = None  # file:line:col of that value


class Prerequisite(BaseModel):
    name: str  # objective, use_cases, metrics, eval_set, clean_data, baseline
    met: bool
    hint: str | None = None  # how to meet it
    blocking: bool = True  # blocks `ftspec build` unless --force


class LadderGate(BaseModel):
    """One gated metric of one rung: the value, its CI (none for a declared score), pass or fail."""
    metric: str  # the gate's label (exact_match, bleu, ...)
    slice: str = "all"
    value: float | None
    ci: list[float | None] | None = None  # [low, high]
    threshold: str
    passed: bool


class LadderRow(BaseModel):
    """One rung of the prompting ladder as the decision saw it: measured by `ftspec baseline`, or declared in
    requirements.tried."""
    rung: str  # zero_shot, few_shot, retrieved_few_shot, rag; a declared row: the tried approach
    label: str
    source: Literal["measured", "declared"]
    model: str | None = None  # the measured model
    baseline: str | None = None  # baselines/<id>
    passed: bool
    gates: list[LadderGate] = Field(default_factory=list)


class Decision(BaseModel):
    approach: Approach
    reasons: list[Reason] = Field(default_factory=list)
    prerequisites: list[Prerequisite] = Field(default_factory=list)
    ladder: list[LadderRow] = Field(default_factory=list)  # the rungs side by side (check --json, decision.md)
    forced: bool = False  # `build --force` overrode an unmet blocking prerequisite

    @property
    def blocked(self) -> list[Prerequisite]:
        return [p for p in self.prerequisites if p.blocking and not p.met]


class Candidate(BaseModel):
    name: str
    method: TrainMethod
    adapter: AdapterKey | None = None  # the PEFT adapter under an objective named by itself (dpo)
    estimated_memory_gb: float
    fits: bool
    breakdown: dict[str, float] = Field(default_factory=dict)  # weights, gradients, optimizer, activations (GB)
    sharding: Literal["none", "fsdp", "deepspeed", "deepspeed_zero2", "deepspeed_zero3"] = "none"


class ChosenModel(BaseModel):
    name: str
    path: str | None = None  # relative to the spec's folder
    hub: str | None = None
    params: float | None = None
    trust_remote_code: bool = False
    has_chat_template: bool = False
    is_encoder_decoder: bool = False  # T5-style: trained and evaluated as seq2seq (AutoModelForSeq2SeqLM)


class Setting(BaseModel):
    value: float | int | str | bool | list | None
    reason: str


class Lora(BaseModel):
    r: int = 16
    alpha: float = 32
    dropout: float = 0.05
    target_modules: list[str] | str = "all-linear"


class Hyperparameters(BaseModel):
    # an objective's own settings (methods.Setting) beyond the named fields ride along as extra fields
    model_config = ConfigDict(extra="allow")

    learning_rate: float
    epochs: float
    batch_size: int
    gradient_accumulation: int
    weight_decay: float
    scheduler: str
    warmup_ratio: float
    max_seq_length: int
    seed: int
    gradient_checkpointing: bool
    optimizer: str
    precision: Literal["bf16", "fp16", "fp32", "auto"]  # auto: bf16 on a GPU that has it, else fp32
    eval_steps: int | None = None
    early_stopping_patience: int | None = None
    early_stopping_min_delta: float = 0.0
    lora: Lora | None = None  # set whenever the adapter is PEFT (lora, qlora)
    dpo_beta: float | None = None  # the dpo objective's setting (a field since the first wave)
    reasons: dict[str, str] = Field(default_factory=dict)  # field name -> why this value


# Prompt templates where the model has no chat template and the spec sets none: the one table, for the plan (decide)
# and for the scripts (render). Placeholders: {instruction} {input} {prompt} {conversation}.
# For a model without a chat template: a separator between the prompt and the answer, so a base model knows where its
# answer starts (encode_example then teaches the end token after it). The few-shot baseline uses the same format.
DEFAULT_TEMPLATES = {
    "instruction": "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n",
    "instruction_without_input": "### Instruction:\n{instruction}\n\n### Response:\n",
    "prompt_completion": "{prompt}\n\n### Response:\n",
    "preference": "{prompt}\n\n### Response:\n",
    "chat": "{conversation}\nassistant:\n",
}


class PromptFormat(BaseModel):
    """Defined once; train.py and eval.py both use it, so the eval prompt is the train text minus the target."""

    kind: Literal["chat_template", "template"]
    template: str | None = None  # for kind == template: placeholders {instruction} {input} {prompt}
    system_prompt: str | None = None
    fold_system: bool = False  # the chat template rejects the system role: the system text opens the first user turn


class DevSplit(BaseModel):
    """Train rows the trainer evaluates on (early stopping, best checkpoint): never the gating eval set
    (compiler/devsplit.py has the rule; train.py repeats it)."""

    share: float = DEV_SHARE
    max_rows: int = DEV_MAX_ROWS
    min_train_rows: int = DEV_MIN_TRAIN_ROWS
    rows: int | None = None  # dev rows, from the audit's count of train rows (None: not counted)
    of_rows: int | None = None  # train rows it is carved from


class DataPlan(BaseModel):
    format: Literal["instruction", "prompt_completion", "chat", "preference"]
    train: list[str]  # relative to the spec's folder
    eval: str | None = None
    holdout: float | None = None
    adversarial: str | None = None
    regression: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)
    dev_split: DevSplit = Field(default_factory=DevSplit)


class Distributed(BaseModel):
    mode: Literal["single", "ddp", "fsdp", "deepspeed"] = "single"
    num_processes: int = 1
    num_machines: int = 1
    use_cpu: bool = False  # no GPU declared: accelerate runs the processes on CPU (gloo)
    zero_stage: int | None = None  # DeepSpeed's ZeRO stage (2 or 3) when mode is deepspeed
    main_address: str = "127.0.0.1"  # the rank-0 node, from the spec's launch section
    main_port: int = 29500


class EvalPlan(BaseModel):
    baselines: list[dict] = Field(default_factory=list)  # [{name, k}]
    max_new_tokens: int = 128
    temperature: float = 0.0
    batch_size: int = 16
    perplexity: bool = False  # a gated metric needs the reference's log-likelihood
    max_examples: int | None = None
    latency_sample: int = 0  # rows per slice timed one request at a time (batch size 1); 0: latency is not gated


class Plan(BaseModel):
    project: str
    decision: Decision
    method: TrainMethod | None  # None when the approach needs no fine-tuning
    adapter: AdapterKey | None = None  # the PEFT adapter under an objective named by itself (dpo)
    model: ChosenModel | None
    candidates: list[Candidate] = Field(default_factory=list)
    hyperparameters: Hyperparameters | None = None
    prompt_format: PromptFormat
    data: DataPlan
    distributed: Distributed = Field(default_factory=Distributed)
    evaluation: EvalPlan = Field(default_factory=EvalPlan)
    tracking: str | list[str] = "none"  # one tracker or several (spec `tracking:`)
    tracking_uri: str | None = None  # MLflow's, where the spec gives one (`{backend: mlflow, uri: ...}`)
    cost: dict | None = None  # token-cost comparison, when the spec declares traffic

    @property
    def training_method(self) -> "methods.Method | None":
        """The objective and adapter this plan trains with (methods.py), or None without fine-tuning."""
        return methods.resolve(self.method, self.adapter) if self.method else None

    def to_json(self) -> dict:
        """The `decision` and `plan` sections of `ftspec check --json`."""
        body = self.model_dump(mode="json")
        if body.get("tracking_uri") is None:  # most specs: the plan reads as before the key existed
            body.pop("tracking_uri", None)
        decision = body.pop("decision")
        return {"decision": decision, "plan": body}
