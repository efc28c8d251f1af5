"""Power of a two-variant test of proportions (statsmodels' NormalIndPower on Cohen's h), with a design effect for
outcomes clustered by user.

Cohen's h = 2 asin(sqrt(p2)) - 2 asin(sqrt(p1)); a target rate follows back from h. When users contribute several
rows, the rows are not independent: the design effect (variance with clustering / variance without) inflates the
rows a test needs, and deflates the rows a log is worth.
"""

from __future__ import annotations

import math


def cohens_h(p1: float, p2: float) -> float:
    from statsmodels.stats.proportion import proportion_effectsize

    return float(proportion_effectsize(p2, p1))


def rate_after(p1: float, h: float) -> float:
    """The rate p2 whose Cohen's h over p1 is h (clipped into [0, 1])."""
    angle = 2 * math.asin(math.sqrt(p1)) + h
    return math.sin(min(max(angle, 0.0), math.pi) / 2) ** 2


def samples_per_variant(baseline_rate: float, effect: float, alpha: float = 0.05, power: float = 0.8,
                        design_effect: float = 1.0) -> int:
    """Rows each variant needs to detect baseline_rate -> baseline_rate + effect (two-sided)."""
    from statsmodels.stats.power import NormalIndPower

    h = abs(cohens_h(baseline_rate, baseline_rate + effect))
    if h == 0:
        raise ValueError("the effect is 0: no sample size detects no difference")
    n = NormalIndPower().solve_power(effect_size=h, alpha=alpha, power=power, ratio=1.0, alternative="two-sided")
    return math.ceil(float(n) * max(1.0, design_effect))


def detectable_effect(baseline_rate: float, n_a: float, n_b: float, alpha: float = 0.05, power: float = 0.8,
                      design_effect: float = 1.0) -> float | None:
    """The smallest rise in rate over baseline_rate that n_a and n_b rows detect with this power."""
    from statsmodels.stats.power import NormalIndPower

    n_a, n_b = n_a / max(1.0, design_effect), n_b / max(1.0, design_effect)
    if n_a < 2 or n_b < 2:
        return None
    h = NormalIndPower().solve_power(nobs1=n_a, alpha=alpha, power=power, ratio=n_b / n_a, alternative="two-sided")
    return rate_after(baseline_rate, float(h)) - baseline_rate


def detectable_mean_shift(sd_a: float, sd_b: float, n_a: float, n_b: float, alpha: float = 0.05,
                          power: float = 0.8, design_effect: float = 1.0) -> float | None:
    """The smallest difference in means (in the outcome's unit) these samples detect (normal approximation)."""
    from statsmodels.stats.power import NormalIndPower

    n_a, n_b = n_a / max(1.0, design_effect), n_b / max(1.0, design_effect)
    if n_a < 2 or n_b < 2:
        return None
    d = NormalIndPower().solve_power(nobs1=n_a, alpha=alpha, power=power, ratio=n_b / n_a, alternative="two-sided")
    pooled = math.sqrt((sd_a ** 2 + sd_b ** 2) / 2)
    return float(d) * pooled


def samples_for_mean_shift(sd: float, shift: float, alpha: float = 0.05, power: float = 0.8,
                           design_effect: float = 1.0) -> int:
    from statsmodels.stats.power import NormalIndPower

    if shift == 0 or sd <= 0:
        raise ValueError("the shift must be non-zero and the outcome must vary")
    n = NormalIndPower().solve_power(effect_size=abs(shift) / sd, alpha=alpha, power=power, ratio=1.0,
                                     alternative="two-sided")
    return math.ceil(float(n) * max(1.0, design_effect))
