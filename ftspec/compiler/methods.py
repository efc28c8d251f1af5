"""Training methods as one table: a method is an objective (what the loss learns from) times an adapter (which
weights train). Every stage looks a method up here: the spec's `method:` key, the decision, the memory estimate, the
hyperparameter defaults, the rendered train.py (each objective's partial, templates/objectives/<name>.py.j2) and
`ftspec explain`.

The spec's `method:` names an adapter (`full`, `lora`, `qlora`: the objective follows the data format) or an
objective (`dpo`: the adapter is chosen by memory). The plan keeps the first wave's names: `plan.method` is the
adapter under the default objective (SFT) and the objective's name otherwise, with `plan.adapter` beside it.

Adding an objective: one `Objective` (register() it), one partial that defines the macros `constants`, `dataset` and
`config` (see objectives/sft.py.j2), and its tests. Nothing else. Pure data: importing this module costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Adapter:
    """Which weights train. `key` is the spec's and the plan's word for it."""

    key: str  # full | lora | qlora
    peft: bool  # a LoRA adapter over a frozen base
    quantized: bool  # the frozen base in 4-bit NF4 (bitsandbytes)
    peft_rank: int  # PEFT first: the order among adapters when the decision weighs them (full is ranked apart)
    title: str  # for the build's docstring


ADAPTERS: dict[str, Adapter] = {
    "full": Adapter("full", peft=False, quantized=False, peft_rank=0, title="all weights"),
    "lora": Adapter("lora", peft=True, quantized=False, peft_rank=1, title="LoRA adapter"),
    "qlora": Adapter("qlora", peft=True, quantized=True, peft_rank=2, title="QLoRA adapter over a 4-bit NF4 base"),
}


@dataclass(frozen=True)
class Setting:
    """A hyperparameter only this objective has: the plan's field (hp.<name> in the template) and its default."""

    name: str
    default: float | int | str | bool
    why: str
    spec_key: str | None = None  # training.<spec_key>, where the spec lets a user set it


@dataclass(frozen=True)
class Objective:
    name: str  # the spec's `method:` word where `selectable`; the plan's `method` unless `named_by_adapter`
    title: str  # "supervised", "DPO"
    trainer: str  # the TRL trainer class (from trl import ...)
    config: str  # its config class
    formats: tuple[str, ...]  # the data formats it trains on
    data_label: str  # what those rows are, for an error: "preference pairs"
    learning_rates: dict[str, tuple[float, str]]  # adapter key -> (default learning rate, why)
    warmup_ratio: float
    description: str  # the build README's line for train.py
    auto_for: tuple[str, ...] = ()  # data formats for which `method: auto` (or an adapter key) picks it
    adapters: tuple[str, ...] = ("full", "lora", "qlora")  # candidates, in order, under `method: auto`
    named_adapters: tuple[str, ...] = ("lora", "qlora")  # candidates when the spec names the objective itself
    settings: tuple[Setting, ...] = ()
    # memory terms (docs/memory.md)
    sequences_per_row: int = 1  # sequences through the model per row and step (chosen + rejected: 2)
    reference_model: bool = False  # a frozen copy of the policy; under an adapter the base itself serves
    reward_model: bool = False  # a separate reward model held beside the policy (online RL)
    selectable: bool = True  # `method: <name>` is a spec key
    named_by_adapter: bool = False  # the default objective: the plan names the method by its adapter
    template_dir: Path | None = None  # where its partial lives, when not in ftspec/templates
    when: str = ""  # when this objective is worth its cost, for the decision's reason (a spec that names it)
    # the template of its eval.py: the generating eval by default; a model that does not generate (a reward model)
    # has its own, which writes the rows its metrics read
    eval_template: str = "eval.py.j2"

    @property
    def partial(self) -> str:
        return f"objectives/{self.name}.py.j2"

    @property
    def generates(self) -> bool:
        """Its eval generates answers (a reward model's scores pairs instead: no latency to time)."""
        return self.eval_template == "eval.py.j2"


OBJECTIVES: dict[str, Objective] = {}
DEFAULT_OBJECTIVE = "sft"


def register(objective: Objective) -> Objective:
    """Add an objective to the table (ftspec's own below; a test or a plugin may add more)."""
    if objective.name in ADAPTERS or objective.name == "auto":
        raise ValueError(f"`{objective.name}` is already a method key")
    OBJECTIVES[objective.name] = objective
    return objective


register(Objective(
    name="sft", title="supervised", trainer="SFTTrainer", config="SFTConfig",
    formats=("instruction", "prompt_completion", "chat"), data_label="prompt and completion rows",
    learning_rates={
        "full": (2e-5, "full fine-tuning: within the 1e-5..5e-5 range that does not wreck pre-trained weights"),
        "lora": (2e-4, "lora: adapters train from zero and take the 1e-4..2e-4 range (QLoRA paper)"),
        "qlora": (2e-4, "qlora: adapters train from zero and take the 1e-4..2e-4 range (QLoRA paper)"),
    },
    warmup_ratio=0.03, auto_for=("instruction", "prompt_completion", "chat"),
    description="supervised fine-tuning with TRL's SFTTrainer, loss on the completion only",
    selectable=False, named_by_adapter=True,
))
register(Objective(
    name="dpo", title="DPO", trainer="DPOTrainer", config="DPOConfig",
    formats=("preference",), data_label="preference pairs",
    learning_rates={
        "full": (5e-6, "DPO on all weights: a small step keeps the policy near its reference"),
        "lora": (5e-5, "DPO with an adapter: 10x below SFT LoRA, as the TRL DPO recipes use"),
        "qlora": (5e-5, "DPO with an adapter: 10x below SFT LoRA, as the TRL DPO recipes use"),
    },
    warmup_ratio=0.1, auto_for=("preference",), adapters=("lora", "qlora", "full"),
    description="preference tuning with TRL's DPOTrainer",
    settings=(Setting("dpo_beta", 0.1, "beta 0.1: the DPO paper's default strength of the KL penalty", "dpo_beta"),),
    sequences_per_row=2, reference_model=True,
))


@dataclass(frozen=True)
class Method:
    """One objective under one adapter: a row of the decision's candidate table."""

    objective: Objective
    adapter: Adapter

    @property
    def plan_method(self) -> str:
        return self.adapter.key if self.objective.named_by_adapter else self.objective.name

    @property
    def plan_adapter(self) -> str | None:
        return self.adapter.key if self.adapter.peft and not self.objective.named_by_adapter else None

    @property
    def label(self) -> str:
        if self.objective.named_by_adapter:
            return self.adapter.key
        return f"{self.objective.name} ({self.adapter.key if self.adapter.peft else 'all weights'})"

    def learning_rate(self) -> tuple[float, str]:
        return self.objective.learning_rates[self.adapter.key]


def spec_methods() -> tuple[str, ...]:
    """Every word `method:` accepts: auto, the adapters, then the selectable objectives."""
    return ("auto", *ADAPTERS, *(o.name for o in OBJECTIVES.values() if o.selectable))


def objective_for(data_format: str) -> Objective:
    """The objective `auto` (or an adapter key) trains with on this data format."""
    found = next((o for o in OBJECTIVES.values() if data_format in o.auto_for), None)
    return found or OBJECTIVES[DEFAULT_OBJECTIVE]


def named_objective(spec_method: str) -> Objective | None:
    """The objective a spec's `method:` names itself (dpo), or None for auto and the adapter keys."""
    found = OBJECTIVES.get(spec_method)
    return found if found is not None and found.selectable else None


def candidates(spec_method: str, data_format: str) -> list[Method]:
    """The methods the decision weighs, in the order it lists them."""
    named = named_objective(spec_method)
    if named is not None:
        return [Method(named, ADAPTERS[a]) for a in named.named_adapters]
    objective = objective_for(data_format)
    keys = objective.adapters if spec_method == "auto" else (spec_method,)
    return [Method(objective, ADAPTERS[a]) for a in keys]


def resolve(plan_method: str, plan_adapter: str | None = None) -> Method:
    """The Method a plan's (method, adapter) names."""
    if plan_method in ADAPTERS:
        return Method(OBJECTIVES[DEFAULT_OBJECTIVE], ADAPTERS[plan_method])
    return Method(OBJECTIVES[plan_method], ADAPTERS[plan_adapter or "full"])


def is_plan_method(name: str) -> bool:
    return name in ADAPTERS or name in OBJECTIVES


def template_dirs() -> list[Path]:
    """Folders of objectives registered from outside ftspec, searched after ftspec's own templates."""
    return list(dict.fromkeys(o.template_dir for o in OBJECTIVES.values() if o.template_dir is not None))


@dataclass(frozen=True)
class MethodRow:
    """A line of `ftspec explain`'s methods table."""

    objective: str
    trainer: str
    formats: str
    adapters: str
    memory: str
    spec_key: str
    chosen: bool = field(default=False)


def method_rows(chosen: Method | None = None) -> list[MethodRow]:
    rows = []
    for o in OBJECTIVES.values():
        terms = [t for t, on in (("reference model (full only)", o.reference_model), ("reward model", o.reward_model),
                                 (f"{o.sequences_per_row} sequences a row", o.sequences_per_row > 1)) if on]
        rows.append(MethodRow(objective=o.name, trainer=o.trainer, formats=", ".join(o.formats),
                              adapters=", ".join(o.adapters), memory=", ".join(terms) or "none",
                              spec_key=f"method: {o.name}" if o.selectable else "method: full, lora or qlora",
                              chosen=chosen is not None and chosen.objective is o))
    return rows


# -- issue 17: learning from preferences beyond DPO --------------------------------------------------------------
register(Objective(
    name="reward_model", title="reward model", trainer="RewardTrainer", config="RewardConfig",
    formats=("preference",), data_label="preference pairs",
    learning_rates={
        "full": (1e-5, "a reward model on all weights: the 1e-5 of TRL's reward-modelling recipes"),
        "lora": (1e-4, "a reward head with an adapter: 10x the full rate, as for SFT adapters"),
        "qlora": (1e-4, "a reward head with an adapter: 10x the full rate, as for SFT adapters"),
    },
    warmup_ratio=0.05, adapters=("full",), named_adapters=("full",),
    description="a reward model (sequence-classification head, one score) with TRL's RewardTrainer on preference "
                "pairs; eval scores it by pairwise accuracy on held-out pairs",
    sequences_per_row=2,  # chosen and rejected pass through the model each step
    eval_template="objectives/reward_model.eval.py.j2",  # scores held-out pairs, generates nothing
    when="a reward model is worth training when its scores will be reused: online RL (GRPO) against it, best-of-n "
         "reranking, or judging new outputs; for a fixed set of pairs DPO suffices, training the policy directly "
         "with no reward model in memory",
))
register(Objective(
    name="grpo", title="GRPO (online RL against a reward model)", trainer="GRPOTrainer", config="GRPOConfig",
    formats=("preference", "prompt_completion", "instruction", "chat"), data_label="prompts (answers are sampled)",
    learning_rates={
        "full": (1e-6, "online RL on all weights: TRL's GRPO default 1e-6 keeps the policy near its reference"),
        "lora": (1e-5, "online RL with an adapter: 10x the full rate"),
        "qlora": (1e-5, "online RL with an adapter: 10x the full rate"),
    },
    warmup_ratio=0.0, adapters=("lora", "qlora", "full"), named_adapters=("lora", "qlora", "full"),
    description="online RL with TRL's GRPOTrainer: sampled answers scored by the trained reward model "
                "(training.reward_model), a KL penalty to the reference (grpo_beta); reward curves in train_log.jsonl",
    settings=(Setting("grpo_beta", 0.04, "beta 0.04: the KL penalty of the GRPO paper (TRL's default is 0, no "
                      "reference)", "grpo_beta"),
              Setting("num_generations", 4, "4 answers per prompt: the smallest group whose ranks carry signal on a "
                      "small budget", "num_generations")),
    sequences_per_row=4, reference_model=True, reward_model=True,
    when="online RL pays when a reward model (or a checkable reward) judges answers the data has none of: it "
         "explores beyond the pairs; for a fixed set of pairs DPO is simpler, cheaper and more stable",
))
register(Objective(
    name="kto", title="KTO", trainer="KTOTrainer", config="KTOConfig",
    formats=("preference",), data_label="preference pairs (each answer marked desirable or not)",
    learning_rates={
        "full": (5e-6, "KTO on all weights: a small step keeps the policy near its reference, as for DPO"),
        "lora": (5e-5, "KTO with an adapter: 10x below SFT LoRA, as for DPO"),
        "qlora": (5e-5, "KTO with an adapter: 10x below SFT LoRA, as for DPO"),
    },
    warmup_ratio=0.1, adapters=("lora", "qlora", "full"),
    description="Kahneman-Tversky optimisation with TRL's KTOTrainer: each answer desirable (chosen) or not "
                "(rejected), a KL penalty to the reference (kto_beta)",
    settings=(Setting("kto_beta", 0.1, "beta 0.1: TRL's and the KTO paper's default strength of the KL penalty",
                      "kto_beta"),),
    sequences_per_row=2,  # the answer and a mismatched one for the KL estimate, through policy and reference
    reference_model=True,
    when="KTO needs only a desirable/undesirable mark per answer, so it also fits feedback that is no pair "
         "(thumbs up or down); on clean pairs DPO is the usual first choice",
))
