"""Token cost: few-shot prompt vs fine-tuned prompt vs training, and the break-even."""

from __future__ import annotations

import pytest

from ftspec.compiler.cost import BREAK_EVEN_MONTHS, compare_costs, monthly_usd
from ftspec.spec.models import Traffic


def test_monthly_cost_is_tokens_times_price_times_traffic():
    traffic = Traffic(requests_per_day=1000, prompt_tokens=2000, completion_tokens=100,
                      usd_per_million_prompt_tokens=1.0, usd_per_million_completion_tokens=2.0)
    per_request = (2000 * 1.0 + 100 * 2.0) / 1e6
    assert monthly_usd(traffic, 2000) == pytest.approx(per_request * 1000 * 30)


def test_short_prompt_estimate_removes_the_few_shot_examples():
    traffic = Traffic(requests_per_day=1000, prompt_tokens=2000, completion_tokens=100)
    result = compare_costs(traffic, few_shot_k=3, model_params=0.5e9, train_tokens=1e6, epochs=3,
                           gpu_hour_usd=2.0)
    assert result.finetuned_prompt_tokens == pytest.approx(2000 / 4)
    assert any("few-shot examples" in a for a in result.assumptions)
    assert result.break_even_months == pytest.approx(result.training_usd / result.monthly_savings_usd, rel=1e-2)


def test_heavy_traffic_favours_fine_tuning_and_light_traffic_does_not():
    heavy = Traffic(requests_per_day=100000, prompt_tokens=3000, completion_tokens=50, finetuned_prompt_tokens=300)
    light = Traffic(requests_per_day=2, prompt_tokens=3000, completion_tokens=50, finetuned_prompt_tokens=300)
    args = {"few_shot_k": 3, "model_params": 7e9, "train_tokens": 5e6, "epochs": 3, "gpu_hour_usd": None}
    assert compare_costs(heavy, **args).favours_fine_tuning
    slow = compare_costs(light, **args)
    assert not slow.favours_fine_tuning and slow.break_even_months > BREAK_EVEN_MONTHS
    assert any("GPU hour" in a for a in slow.assumptions)  # the default price is stated


def test_no_saving_means_no_break_even():
    same = Traffic(requests_per_day=100, prompt_tokens=300, completion_tokens=50, finetuned_prompt_tokens=300)
    result = compare_costs(same, few_shot_k=3, model_params=1e9, train_tokens=1e6, epochs=1, gpu_hour_usd=1.0)
    assert result.break_even_months is None and not result.favours_fine_tuning
