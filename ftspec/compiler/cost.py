"""Token cost: a long few-shot prompt every request vs a fine-tuned model's short prompt plus the one-off training."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ftspec.spec.models import Traffic

DAYS_PER_MONTH = 30
DEFAULT_GPU_HOUR_USD = 2.0  # an on-demand A100 80 GB at common cloud prices; set constraints.gpu_hour_usd
GPU_FLOPS = 312e12 * 0.35  # A100 bf16 peak at a typical 35% utilisation
MIN_GPU_HOURS = 0.25  # start-up, evaluation and checkpointing dominate very short runs
BREAK_EVEN_MONTHS = 12  # fine-tune for cost when training pays for itself within a year


@dataclass(frozen=True)
class CostComparison:
    monthly_prompting_usd: float
    monthly_finetuned_usd: float
    monthly_savings_usd: float
    training_usd: float
    gpu_hours: float
    gpu_hour_usd: float
    finetuned_prompt_tokens: float
    break_even_months: float | None  # None when fine-tuning saves nothing per month
    assumptions: list[str]

    @property
    def favours_fine_tuning(self) -> bool:
        return self.break_even_months is not None and self.break_even_months <= BREAK_EVEN_MONTHS

    def to_json(self) -> dict:
        return {**asdict(self), "favours_fine_tuning": self.favours_fine_tuning}


def monthly_usd(traffic: Traffic, prompt_tokens: float) -> float:
    per_request = (prompt_tokens * traffic.usd_per_million_prompt_tokens
                   + traffic.completion_tokens * traffic.usd_per_million_completion_tokens) / 1e6
    return per_request * traffic.requests_per_day * DAYS_PER_MONTH


def training_gpu_hours(trainable_flops_params: float, train_tokens: float, epochs: float) -> float:
    """6 FLOPs per parameter and token for forward and backward (Kaplan et al. 2020), at a realistic utilisation."""
    return max(6 * trainable_flops_params * train_tokens * epochs / GPU_FLOPS / 3600, MIN_GPU_HOURS)


def compare_costs(traffic: Traffic, *, few_shot_k: int, model_params: float, train_tokens: float, epochs: float,
                  gpu_hour_usd: float | None) -> CostComparison:
    assumptions = []
    short_prompt = traffic.finetuned_prompt_tokens
    if short_prompt is None:
        # The few-shot prompt holds k worked examples and the request; fine-tuned, only the request is left.
        short_prompt = traffic.prompt_tokens / (few_shot_k + 1)
        assumptions.append(f"fine-tuned prompt ≈ {short_prompt:.0f} tokens: today's {traffic.prompt_tokens:g} "
                           f"minus its {few_shot_k} few-shot examples (set traffic.finetuned_prompt_tokens)")
    assumptions.append("the fine-tuned model is served at the same price per token as today's model")
    price = gpu_hour_usd or DEFAULT_GPU_HOUR_USD
    if gpu_hour_usd is None:
        assumptions.append(f"GPU hour at ${DEFAULT_GPU_HOUR_USD:.2f} (set constraints.gpu_hour_usd)")
    hours = training_gpu_hours(model_params, train_tokens, epochs)
    now, later = monthly_usd(traffic, traffic.prompt_tokens), monthly_usd(traffic, short_prompt)
    savings = now - later
    training = hours * price
    return CostComparison(round(now, 2), round(later, 2), round(savings, 2), round(training, 2), round(hours, 3),
                          price, round(short_prompt, 1), float(f"{training / savings:.3g}") if savings > 0 else None,
                          assumptions)


def payback_label(months: float) -> str:
    """A payback time in the unit that reads: "under an hour", "5 hours", "9 days", "1.5 months" (never 0.00203
    months)."""
    hours = months * DAYS_PER_MONTH * 24
    if hours < 1:
        return "under an hour"
    if hours < 48:
        return f"{hours:.0f} hour" + ("" if round(hours) == 1 else "s")
    days = hours / 24
    if days < 60:
        return f"{days:.0f} days"
    return f"{months:.3g} months"


@dataclass(frozen=True)
class TrainingEstimate:
    gpu_hours: float
    gpu_hour_usd: float
    assumed_price: bool  # no constraints.gpu_hour_usd: DEFAULT_GPU_HOUR_USD

    @property
    def usd(self) -> float:
        return self.gpu_hours * self.gpu_hour_usd

    def describe(self) -> str:
        assumed = " assumed; set constraints.gpu_hour_usd" if self.assumed_price else ""
        price = f"${self.gpu_hour_usd:,.2f}/h{assumed}"
        return f"${self.usd:,.2f} ({self.gpu_hours:.3g} GPU-hours at {price})"


def estimate_training(model_params: float, train_tokens: float, epochs: float,
                      gpu_hour_usd: float | None) -> TrainingEstimate:
    """The one-off training cost, as compare_costs prices it: GPU hours from the FLOPs, at the spec's price."""
    return TrainingEstimate(training_gpu_hours(model_params, train_tokens, epochs),
                            gpu_hour_usd or DEFAULT_GPU_HOUR_USD, gpu_hour_usd is None)
