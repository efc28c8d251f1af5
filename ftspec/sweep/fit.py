"""Before a trial starts: does its configuration fit the declared GPU (the memory estimate `check` uses), and what
does it cost in GPU-hours (the cost estimate)? A configuration that does not fit is never launched."""

from __future__ import annotations

from dataclasses import dataclass

from ftspec.compiler.pipeline import CheckResult


@dataclass(frozen=True)
class Fit:
    estimated_gb: float | None  # per GPU, sharded where several are declared; None: the model cannot be estimated
    budget_gb: float
    gpu_hours: float | None

    @property
    def fits(self) -> bool:
        return self.estimated_gb is None or self.estimated_gb <= self.budget_gb

    def to_json(self) -> dict:
        return {"estimated_gb": self.estimated_gb, "budget_gb": self.budget_gb, "fits": self.fits,
                "gpu_hours": self.gpu_hours}


def check_fit(result: CheckResult, settings: dict) -> Fit:
    """The trial's setup as decide builds it for the chosen model, with the trial's batch size and LoRA rank."""
    from ftspec.compiler import decide
    from ftspec.compiler.cost import estimate_training
    from ftspec.compiler.memory import estimate_memory, with_overrides

    loaded, plan = result.loaded, result.plan
    budget = decide._gpu_budget(loaded, [])
    index = next(i for i, m in enumerate(loaded.spec.models) if m.name == plan.model.name)
    info = decide._resolve_model(loaded, index, loaded.spec.models[index], [])
    hp = plan.hyperparameters
    if info.dims is None:
        return Fit(None, budget, None)
    batch = int(settings.get("batch_size", hp.batch_size))
    setup = decide._setup(loaded, info, plan.training_method, batch, hp.gradient_checkpointing)
    setup = with_overrides(setup, seq_len=hp.max_seq_length,
                           lora_r=int(settings.get("lora_r", hp.lora.r if hp.lora else setup.lora_r)))
    estimate = estimate_memory(info.dims, setup)
    constraints = loaded.spec.requirements.constraints
    gpus = constraints.gpus * constraints.nodes
    per_gpu = min(estimate.total_gib, decide._sharded(estimate, gpus)) if gpus > 1 else estimate.total_gib
    rows = plan.data.dev_split.of_rows or 0
    train_tokens = rows * hp.max_seq_length / 2  # as decide assumes
    epochs = float(settings.get("epochs", hp.epochs))
    hours = estimate_training(info.dims.params, train_tokens, epochs, constraints.gpu_hour_usd).gpu_hours
    sweep = loaded.spec.sweep
    sharing = -(-sweep.parallel // gpus) if sweep is not None else 1  # parallel trials beyond the GPUs share them
    return Fit(round(per_gpu, 3), round(budget / sharing, 3), hours)
