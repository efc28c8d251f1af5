"""The decision engine: spec + audit -> Plan. Pure, apart from reading a local model's config and tokenizer config.

Order: resolve each candidate model's shape, estimate memory for every model and method, pick the smallest model
that fits (PEFT first), weigh the token cost, then apply the approach matrix and the prerequisites.
"""

from __future__ import annotations

from dataclasses import dataclass

from ftspec.compiler.approach import (
    budget_prerequisite,
    check_prerequisites,
    choose_approach,
    monitoring_reasons,
    reason,
)
from ftspec.compiler.cost import CostComparison, compare_costs
from ftspec.compiler.devsplit import DEV_MAX_ROWS, DEV_MIN_TRAIN_ROWS, DEV_SHARE, dev_size
from ftspec.compiler.distributed import per_gpu_gib, plan_distributed, sharding_backend
from ftspec.compiler.hparams import choose_hyperparameters, default_epochs, planned_seq_length
from ftspec.compiler.memory import (
    ModelDims,
    TrainSetup,
    dims_from_architecture,
    dims_from_params,
    estimate_memory,
)
from ftspec.compiler.methods import Method, candidates
from ftspec.compiler.modelcheck import locate_model
from ftspec.compiler.modelinfo import ModelFiles, end_token_trail, rejects_system_role
from ftspec.compiler.plan import (
    DEFAULT_TEMPLATES,
    Candidate,
    ChosenModel,
    DataPlan,
    Decision,
    DevSplit,
    Distributed,
    EvalPlan,
    Plan,
    Prerequisite,
    PromptFormat,
    Reason,
)
from ftspec.compiler.report import params_label
from ftspec.compiler.tracking import tracker_prerequisite
from ftspec.data.findings import AuditReport
from ftspec.spec.load import LoadedSpec
from ftspec.spec.models import ModelSpec
from ftspec.tracking import configured_uri, plain

DEFAULT_GPU_GB = 24.0  # a common single card (RTX 4090, A10G's 24 GB, L4's 24 GB)
FULL_MIN_ROWS = 5000  # full fine-tuning needs thousands of examples to beat an adapter
FULL_MAX_SHARE = 0.5  # ... and a model small for the GPU: its estimate within half of the memory
ASSUMED_ROWS = 1000  # for the cost estimate when the audit did not count rows
CHAT_HINTS = ("instruct", "chat", "-it")


@dataclass
class ModelInfo:
    index: int
    spec: ModelSpec
    dims: ModelDims | None
    chosen: ChosenModel
    files: ModelFiles | None = None  # config and tokenizer read from disk or the Hugging Face cache


def decide(loaded: LoadedSpec, audit: AuditReport | None) -> Plan:
    spec = loaded.spec
    reasons: list[Reason] = []
    rows = audit.clean_rows("train") if audit is not None else None
    budget = _gpu_budget(loaded, reasons)
    models = [_resolve_model(loaded, i, m, reasons) for i, m in enumerate(spec.models)]
    table = _candidates(loaded, models, budget)
    choice = _choose(loaded, models, table, budget, rows, reasons)
    cost = _cost(loaded, choice, rows)
    outcome = choose_approach(loaded, cost)
    prerequisites = check_prerequisites(loaded, audit)
    fine_tune = outcome.approach in ("fine_tuning", "fine_tuning_and_rag")
    fine_tune = fine_tune or outcome.provisional is not None  # planned, for `build --force`, until measured
    info, option, candidate, setup = choice if choice else (None, None, None, None)
    if fine_tune and candidate is not None and not candidate.fits:
        prerequisites.append(Prerequisite(name="fits_budget", met=False,
                                          hint="no candidate fits the GPU memory: add GPUs, a bigger GPU, or a "
                                               "smaller model (see the candidates' memory)"))
    tracker = tracker_prerequisite(plain(spec.tracking)) if fine_tune else None
    if tracker is not None:
        prerequisites.append(tracker)
    hyper = None
    if fine_tune and info is not None:
        hyper = choose_hyperparameters(loaded, option, rows, _context(info),
                                       setup.gradient_checkpointing, setup.batch_size)
    if fine_tune and hyper is not None:
        train_tokens = (rows or ASSUMED_ROWS) * hyper.max_seq_length / 2  # as _cost assumes
        prerequisites += budget_prerequisite(loaded, info.dims.params, train_tokens, hyper.epochs)
    if outcome.approach not in ("fine_tuning", "fine_tuning_and_rag"):  # what fine-tuning would take, if it plateaus
        reasons = [r.model_copy(update={"text": f"if fine-tuned later: {r.text}"}) for r in reasons]
    plan_reasons = outcome.reasons + monitoring_reasons(loaded) + reasons  # production evidence, when monitored
    prompt_format = _prompt_format(loaded, info, plan_reasons)
    _context_warning(loaded, info, audit, plan_reasons)
    evaluation = _evaluation(loaded, plan_reasons)
    dev_split = _dev_split(loaded, rows, plan_reasons if fine_tune else [])
    return Plan(
        project=spec.name,
        decision=Decision(approach=outcome.approach, reasons=plan_reasons, prerequisites=prerequisites,
                          ladder=outcome.ladder),
        method=option.plan_method if fine_tune and option else None,
        adapter=option.plan_adapter if fine_tune and option else None,
        model=info.chosen if info else None,
        candidates=[c for per_model in table.values() for _, c, _ in per_model],
        hyperparameters=hyper,
        prompt_format=prompt_format,
        data=DataPlan(format=spec.data.format, train=list(spec.data.train), eval=spec.data.eval,
                      holdout=spec.data.holdout, adversarial=spec.data.adversarial, regression=spec.data.regression,
                      fields=dict(spec.data.fields), dev_split=dev_split),
        distributed=_distributed(loaded, candidate if fine_tune else None, plan_reasons),
        evaluation=evaluation,
        tracking=plain(spec.tracking),
        tracking_uri=configured_uri(spec.tracking),
        cost=cost.to_json() if cost else None,
    )


def _dev_split(loaded: LoadedSpec, rows: int | None, reasons: list[Reason]) -> DevSplit:
    split = DevSplit(rows=dev_size(rows) if rows is not None else None, of_rows=rows)
    gate = "the holdout" if loaded.spec.data.eval is None else "the eval set"
    if rows is None:
        text = (f"model selection: the trainer evaluates on a dev split of {DEV_SHARE:.0%} of train (at most "
                f"{DEV_MAX_ROWS}), never on {gate} that gates the model")
    elif split.rows:
        text = (f"model selection: the trainer evaluates (eval loss, early stopping, best checkpoint) on a dev split "
                f"of {split.rows} of the {rows} train rows (seeded), never on {gate} that gates the model")
    else:
        text = (f"no dev split: {rows} train rows (under {DEV_MIN_TRAIN_ROWS}) all train, so nothing evaluates during "
                f"training; {gate} only gates")
    reasons.append(reason(loaded, text, "data", "train"))
    return split


def _gpu_budget(loaded: LoadedSpec, reasons: list[Reason]) -> float:
    given = loaded.spec.requirements.constraints.gpu_memory_gb
    if given is not None:
        return float(given)
    reasons.append(reason(loaded, f"no GPU memory given: assume one {DEFAULT_GPU_GB:g} GB GPU (set "
                                  "requirements.constraints.gpu_memory_gb)", "requirements", "constraints"))
    return DEFAULT_GPU_GB


def _resolve_model(loaded: LoadedSpec, index: int, model: ModelSpec, reasons: list[Reason]) -> ModelInfo:
    files = locate_model(loaded, model)
    arch = files.architecture if files is not None else None
    dims = dims_from_architecture(arch, str(files.folder / "config.json")) if arch is not None else None
    chat = bool(files is not None and files.tokenizer.chat_template)
    if files is None and model.hub:  # not in the local Hugging Face cache: the name is all there is
        chat = any(hint in model.hub.lower() for hint in CHAT_HINTS)
    elif files is not None and files.where != "local" and arch is not None:
        reasons.append(reason(loaded, f"model `{model.name}`: config and tokenizer read from the {files.where} "
                                      f"({arch.model_type or arch.family})", "models", index))
    if arch is not None and arch.encoder_decoder:
        reasons.append(reason(loaded, f"model `{model.name}` is an encoder-decoder ({arch.model_type}): the prompt "
                                      "is the encoder's input and the answer the decoder's target (seq2seq)",
                              "models", index))
    if dims is None and model.params is not None:
        dims = dims_from_params(model.params, model.context_window)
    if dims is None:
        what = "an unreadable config.json" if files is not None and files.config is not None else "no config.json"
        reasons.append(reason(loaded, f"model `{model.name}`: {what} and no `params`, so its memory cannot "
                                      "be estimated; add `params:`", "models", index))
    chosen = ChosenModel(name=model.name, path=model.path, hub=model.hub, params=dims.params if dims else None,
                         trust_remote_code=model.trust_remote_code, has_chat_template=chat,
                         is_encoder_decoder=bool(arch is not None and arch.encoder_decoder))
    return ModelInfo(index, model, dims, chosen, files)


def _context(info: ModelInfo) -> int | None:
    return info.spec.context_window or (info.dims.context_window if info.dims else None)


def _checkpointing(loaded: LoadedSpec, info: ModelInfo) -> bool:
    given = loaded.spec.training.gradient_checkpointing
    return given if given is not None else bool(info.dims and info.dims.params >= 1e9)


def _batch(loaded: LoadedSpec, info: ModelInfo) -> int:
    if loaded.spec.training.batch_size:
        return loaded.spec.training.batch_size
    params = info.dims.params if info.dims else 0
    return 4 if params < 3e9 else 2 if params < 15e9 else 1


def _options(loaded: LoadedSpec) -> list[Method]:
    return candidates(loaded.spec.method, loaded.spec.data.format)


def _setup(loaded: LoadedSpec, info: ModelInfo, option: Method, batch: int, checkpointing: bool) -> TrainSetup:
    training = loaded.spec.training
    seq = planned_seq_length(training.max_seq_length, _context(info))
    optimizer = training.optimizer or ("paged_adamw_8bit" if option.adapter.quantized else "adamw_torch")
    dtype = "fp16" if training.precision == "fp16" else "fp32" if training.precision == "fp32" else "bf16"
    lora = training.lora
    objective = option.objective
    return TrainSetup(method=option.adapter.key, dtype=dtype, mixed_precision=True,
                      optimizer_bits=8 if "8bit" in optimizer else 32, seq_len=seq, batch_size=batch,
                      gradient_checkpointing=checkpointing, lora_r=lora.r or 16,
                      lora_targets=tuple(lora.target_modules) if isinstance(lora.target_modules, list)
                      else "all-linear", sequences=objective.sequences_per_row,
                      reference_model=objective.reference_model, reward_model=objective.reward_model)


def _ladder(loaded: LoadedSpec, info: ModelInfo) -> list[tuple[int, bool]]:
    """(batch, checkpointing) from the default to the leanest; a value set in the spec stays fixed."""
    training = loaded.spec.training
    batches = [training.batch_size] if training.batch_size else [_batch(loaded, info), 1]
    flags = [training.gradient_checkpointing] if training.gradient_checkpointing is not None \
        else [_checkpointing(loaded, info), True]
    ladder = [(batches[0], flags[0]), (batches[0], flags[-1]), (batches[-1], flags[0]), (batches[-1], flags[-1])]
    return list(dict.fromkeys(ladder))


def _candidates(loaded: LoadedSpec, models: list[ModelInfo], budget: float) -> dict[int, list]:
    """Per model: (option, Candidate, setup) for every method: the first setup of the ladder that fits one GPU,
    else the first that fits sharded across the declared GPUs, else the leanest."""
    constraints = loaded.spec.requirements.constraints
    gpus = constraints.gpus * constraints.nodes
    table: dict[int, list] = {}
    for info in models:
        if info.dims is None:
            continue
        rows = []
        for option in _options(loaded):
            tries = []
            for batch, checkpointing in _ladder(loaded, info):
                setup = _setup(loaded, info, option, batch, checkpointing)
                tries.append((setup, estimate_memory(info.dims, setup)))
            single = [(s, e.total_gib, "none", e) for s, e in tries]
            backend = sharding_backend(loaded.spec.launch)  # what the spec's launch section shards, if anything
            sharded = [(s, per_gpu_gib(e, backend, gpus), backend, e) for s, e in tries] if gpus > 1 and backend \
                else []
            setup, per_gpu, sharding, estimate = next((t for t in single + sharded if t[1] <= budget), single[-1])
            rows.append((option, Candidate(name=info.spec.name, method=option.plan_method, adapter=option.plan_adapter,
                                           estimated_memory_gb=round(per_gpu, 2), fits=per_gpu <= budget,
                                           breakdown=estimate.breakdown, sharding=sharding), setup))
        table[info.index] = rows
    return table


def _choose(loaded: LoadedSpec, models: list[ModelInfo], table: dict, budget: float, rows: int | None,
            reasons: list[Reason]):
    """The smallest model that fits, PEFT first; full only when the model is small for the GPU and data is plenty."""
    sized = sorted((m for m in models if m.index in table), key=lambda m: m.dims.params)
    if not sized:
        return None
    for info in sized:
        for option, candidate, setup in sorted(table[info.index], key=lambda row: _rank(row, budget, rows)):
            if candidate.fits and _allowed(option, candidate, budget, rows, loaded):
                _explain_choice(loaded, info, option, candidate, setup, table[info.index], budget, rows, reasons)
                return info, option, candidate, setup
    info = sized[0]
    option, candidate, setup = min(table[info.index], key=lambda row: row[1].estimated_memory_gb)
    reasons.append(reason(loaded, f"nothing fits {budget:g} GB: the leanest is {_label(option)} on `{info.spec.name}` "
                                  f"at {candidate.estimated_memory_gb:g} GB; add GPUs or pick a smaller model",
                          "models", info.index))
    return info, option, candidate, setup


def _full_justified(candidate: Candidate, budget: float, rows: int | None) -> bool:
    return rows is not None and rows >= FULL_MIN_ROWS and candidate.estimated_memory_gb <= FULL_MAX_SHARE * budget


def _allowed(option: Method, candidate: Candidate, budget: float, rows: int | None, loaded: LoadedSpec) -> bool:
    if option.adapter.peft or loaded.spec.method != "auto":
        return True
    return _full_justified(candidate, budget, rows)


def _rank(row, budget: float, rows: int | None) -> tuple:
    option, candidate, _ = row
    order = option.adapter.peft_rank if option.adapter.peft else 0 if _full_justified(candidate, budget, rows) else 3
    return (not candidate.fits, candidate.sharding != "none", order)


def _label(option: Method) -> str:
    return option.label


def _explain_choice(loaded: LoadedSpec, info: ModelInfo, option: Method, candidate: Candidate, setup: TrainSetup,
                    rows_for_model: list, budget: float, rows: int | None, reasons: list[Reason]) -> None:
    others = ", ".join(f"{_label(o)} {c.estimated_memory_gb:g} GB" for o, c, _ in rows_for_model if o is not option)
    where = ("method",) if loaded.spec.method != "auto" else ("models", info.index)
    text = (f"{_label(option)} on `{info.spec.name}` ({params_label(info.dims.params)} params): "
            f"{candidate.estimated_memory_gb:g} GB of {budget:g} GB" + (f" (others: {others})" if others else ""))
    if loaded.spec.method != "auto":
        text += "; the method is set in the spec" + (f": {option.objective.when}" if option.objective.when else "")
    elif not option.objective.named_by_adapter:
        text += f"; the data is {option.objective.data_label}, so {option.objective.title}"
    elif not option.adapter.peft:
        text += f"; full fine-tuning: the model is small for the GPU and there are {rows} rows"
    else:
        text += "; PEFT first: the smallest candidate that fits"
    reasons.append(reason(loaded, text, *where))
    default = _ladder(loaded, info)[0]
    if (setup.batch_size, setup.gradient_checkpointing) != default:
        reasons.append(reason(loaded, f"to fit, per-device batch {setup.batch_size} and gradient checkpointing "
                                      f"{'on' if setup.gradient_checkpointing else 'off'} (the default "
                                      f"{default[0]}, {'on' if default[1] else 'off'} needs more)",
                              "models", info.index))
    if candidate.sharding != "none":
        c = loaded.spec.requirements.constraints
        how = {"fsdp": "FSDP (full shard)", "deepspeed_zero3": "DeepSpeed ZeRO-3",
               "deepspeed_zero2": "DeepSpeed ZeRO-2 (gradients and optimizer states)"}[candidate.sharding]
        reasons.append(reason(loaded, f"it fits only sharded across the {c.gpus * c.nodes} GPUs: {how}",
                              "requirements", "constraints", "gpus"))


def _cost(loaded: LoadedSpec, choice, rows: int | None) -> CostComparison | None:
    spec = loaded.spec
    traffic = spec.requirements.traffic
    if traffic is None or choice is None:
        return None
    info = choice[0]
    few_shot = next((b.k for b in spec.evaluation.baselines if b.name == "base_few_shot"), 3)
    seq = planned_seq_length(spec.training.max_seq_length, _context(info))
    epochs = spec.training.epochs if spec.training.epochs != "auto" else default_epochs(rows)[0]  # as the plan's
    comparison = compare_costs(traffic, few_shot_k=few_shot, model_params=info.dims.params,
                               train_tokens=(rows or ASSUMED_ROWS) * seq / 2, epochs=epochs,
                               gpu_hour_usd=spec.requirements.constraints.gpu_hour_usd)
    if rows is None:
        comparison.assumptions.append(f"{ASSUMED_ROWS} training rows of ~{seq // 2} tokens (the audit did not "
                                      "count them)")
    return comparison


def _prompt_format(loaded: LoadedSpec, info: ModelInfo | None, reasons: list[Reason]) -> PromptFormat:
    data = loaded.spec.data
    if info is not None and info.chosen.has_chat_template:
        reasons.append(reason(loaded, f"prompt format: `{info.spec.name}`'s own chat template", "models", info.index))
        return PromptFormat(kind="chat_template", system_prompt=data.system_prompt,
                            fold_system=_chat_template_notes(loaded, info, reasons))
    if data.prompt_template:
        reasons.append(reason(loaded, "prompt format: the spec's template (the model has no chat template)",
                              "data", "prompt_template"))
        return PromptFormat(kind="template", template=data.prompt_template, system_prompt=data.system_prompt)
    if info is not None and info.chosen.is_encoder_decoder and data.format in ("prompt_completion", "preference"):
        reasons.append(reason(loaded, "prompt format: the prompt alone, `{prompt}`: an encoder-decoder reads it in "
                                      "its encoder and its decoder starts the answer, which ends with the end token "
                                      "(set data.prompt_template to change it)", "data", "format"))
        return PromptFormat(kind="template", template="{prompt}", system_prompt=data.system_prompt)
    template = DEFAULT_TEMPLATES[data.format]
    reasons.append(reason(loaded, f"prompt format: the default template for {data.format} data, {template!r}: the "
                                  "model has no chat template, so a separator marks where the answer starts and the "
                                  "end token is learned after it; the few-shot baseline uses the same format (set "
                                  "data.prompt_template to change it)", "data", "format"))
    return PromptFormat(kind="template", template=template, system_prompt=data.system_prompt)


def _chat_template_notes(loaded: LoadedSpec, info: ModelInfo, reasons: list[Reason]) -> bool:
    """What rendering the chat template shows (modelinfo.py); True when the system prompt must be folded."""
    files, data = info.files, loaded.spec.data
    if files is None or not files.tokenizer.chat_template:
        return False
    template, tokens = files.tokenizer.chat_template, files.tokenizer
    trail = end_token_trail(template, tokens)
    if trail is not None:
        reasons.append(reason(loaded, f"`{info.spec.name}`'s chat template closes each answer with `{tokens.eos}` "
                                      f"then {trail!r}: the end token is learned once, and what trails it is not "
                                      "trained", "models", info.index))
    if not (data.system_prompt or data.format == "chat") or not rejects_system_role(template, tokens):
        return False
    where = ("data", "system_prompt") if data.system_prompt else ("data", "format")
    reasons.append(reason(loaded, f"`{info.spec.name}`'s chat template rejects the system role: the system prompt "
                                  "is folded into the first user turn", *where))
    return True


def _context_warning(loaded: LoadedSpec, info: ModelInfo | None, audit: AuditReport | None,
                     reasons: list[Reason]) -> None:
    """Warn where the longest prompt plus max_new_tokens runs past the model's context (eval.py caps it there)."""
    context = _context(info) if info is not None else None
    if context is None or info.chosen.is_encoder_decoder:
        return
    generation = loaded.spec.evaluation.generation
    lengths = (audit.stats.get("token_lengths", {}) if audit is not None else {}).get(info.spec.name, {})
    shots = next((b.k for b in loaded.spec.evaluation.baselines if b.name == "base_few_shot"), 0)
    longest = lengths.get("max", 0) + shots * lengths.get("median", 0)  # the longest row after k typical shots
    if longest + generation.max_new_tokens <= context:
        return
    prompt = f"a prompt of up to ~{longest} tokens{f' ({shots} few-shot examples)' if shots else ''} plus " \
        if longest else ""
    where = ("evaluation", "generation", "max_new_tokens") if "max_new_tokens" in generation.model_fields_set \
        else ("models", info.index)
    reasons.insert(0, reason(loaded, f"warning: {prompt}max_new_tokens {generation.max_new_tokens} runs past "
                                  f"`{info.spec.name}`'s context of {context} tokens: eval.py caps generation at the "
                                  "context and keeps the end of a prompt too long for it", *where))


def _distributed(loaded: LoadedSpec, candidate: Candidate | None, reasons: list[Reason]) -> Distributed:
    c = loaded.spec.requirements.constraints
    total = c.gpus * c.nodes
    if candidate is None or total == 1:
        return Distributed(mode="single", num_processes=1, num_machines=1, use_cpu=loaded.spec.launch.cpu)
    if candidate.sharding != "none" or loaded.spec.launch.backend not in ("auto", "ddp"):
        if loaded.spec.launch.backend != "auto":
            reasons.append(reason(loaded, f"backend {loaded.spec.launch.backend} (set in the spec) across {total} "
                                          f"processes on {c.nodes} node(s)", "launch", "backend"))
        dist = plan_distributed(loaded.spec.launch, c, candidate.sharding)
        if dist.use_cpu:
            reasons.append(reason(loaded, f"on CPU accelerate runs {dist.mode} as DDP over gloo: it applies FSDP and "
                                          "DeepSpeed on GPUs only", "launch", "cpu"))
        return dist
    reasons.append(reason(loaded, f"it fits on one GPU, so each of the {total} GPUs holds a replica: DDP",
                          "requirements", "constraints", "gpus"))
    return plan_distributed(loaded.spec.launch, c, "none")


def _evaluation(loaded: LoadedSpec, reasons: list[Reason]) -> EvalPlan:
    from ftspec.spec.gated import implied_gates

    ev = loaded.spec.evaluation
    for origin, metric in implied_gates(loaded.spec):
        reasons.append(reason(loaded, f"{origin.rsplit('.', 1)[-1]} becomes the gate `{metric.name} "
                                      f"{metric.threshold}` (ms), timed per request at batch size 1 on "
                                      f"{LATENCY_SAMPLE} rows per slice", *origin.split(".")))
    return EvalPlan(baselines=[{"name": b.name, "k": b.k} for b in ev.baselines],
                    max_new_tokens=ev.generation.max_new_tokens, temperature=ev.generation.temperature,
                    batch_size=ev.generation.batch_size,
                    perplexity=_gated_fields(loaded) >= {"nll", "ref_tokens"},
                    max_examples=ev.max_examples,
                    latency_sample=LATENCY_SAMPLE if "latency_ms" in _gated_fields(loaded) else 0)


# Rows per slice that eval.py times one request at a time when latency is gated: enough for a p95 with a CI
# (32 rows put the 95th percentile between the 30th and 31st timings) at a small cost in eval time.
LATENCY_SAMPLE = 32


def _gated_fields(loaded: LoadedSpec) -> set[str]:
    """The predictions.jsonl fields the gated metrics read (their declarations say which), for eval.py to record."""
    from ftspec.metrics import METRICS
    from ftspec.spec.gated import gated_metrics

    return {field for m in gated_metrics(loaded.spec) for field in METRICS[m.name].fields}
