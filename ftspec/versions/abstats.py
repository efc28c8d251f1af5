"""The statistics behind `ftspec ab`: per-variant estimates, the test of B - A, and power (see ftspec.versions.ab)."""

from __future__ import annotations

import math


def cluster_summary(x, users) -> dict | None:
    """Per-user sums and counts of one variant; None without a user column. The ratio estimator sum(y)/sum(n)
    with the sandwich variance G/(G-1) * sum((y_u - r n_u)^2) / N^2 treats each user as one independent draw."""
    import numpy as np

    if users is None or len(x) == 0:
        return None
    _, inverse = np.unique(users, return_inverse=True)
    sums, counts = np.bincount(inverse, weights=x), np.bincount(inverse).astype(float)
    g, n = len(sums), counts.sum()
    rate = sums.sum() / n
    var = g / (g - 1) * ((sums - rate * counts) ** 2).sum() / n ** 2 if g > 1 else math.nan
    return {"users": g, "n": int(n), "value": float(rate), "variance": float(var)}


def _estimate(x, binary: bool, alpha: float) -> dict:
    import numpy as np
    from scipy import stats

    n = len(x)
    value = float(x.mean()) if n else math.nan
    if binary:
        from statsmodels.stats.proportion import proportion_confint

        ci = proportion_confint(int(x.sum()), n, alpha=alpha, method="wilson")
    else:
        sem = float(np.std(x, ddof=1) / math.sqrt(n)) if n > 1 else math.nan
        ci = stats.t.interval(1 - alpha, n - 1, loc=value, scale=sem) if n > 1 else (math.nan, math.nan)
    return {"n": n, "value": value, "ci": [float(ci[0]), float(ci[1])]}


def difference_test(a, b, clusters, binary: bool, alpha: float) -> dict:
    """B - A with its CI and p-value, the right test for the outcome and the design."""
    if clusters is not None:
        return _clustered(a, b, clusters, alpha)
    variants = [_estimate(a, binary, alpha), _estimate(b, binary, alpha)]
    diff = variants[1]["value"] - variants[0]["value"]
    if binary:
        from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

        counts, nobs = [int(b.sum()), int(a.sum())], [len(b), len(a)]
        z, p = proportions_ztest(counts, nobs) if 0 < sum(counts) < sum(nobs) else (0.0, 1.0)
        low, high = confint_proportions_2indep(counts[0], nobs[0], counts[1], nobs[1], method="wald", alpha=alpha)
        return {"variants": variants, "difference": diff, "difference_ci": [float(low), float(high)],
                "test": "two-proportion z-test", "statistic": float(z), "p_value": float(p)}
    from scipy import stats

    welch = stats.ttest_ind(b, a, equal_var=False)
    ci = welch.confidence_interval(1 - alpha)
    mw = stats.mannwhitneyu(b, a, alternative="two-sided")
    p = float(welch.pvalue) if math.isfinite(welch.pvalue) else 1.0
    return {"variants": variants, "difference": diff, "difference_ci": [float(ci.low), float(ci.high)],
            "test": "Welch t-test", "statistic": float(welch.statistic), "p_value": p,
            "mann_whitney_p": float(mw.pvalue)}


def _clustered(a, b, clusters, alpha: float) -> dict:
    from scipy.stats import norm

    z_crit = float(norm.ppf(1 - alpha / 2))
    variants = []
    for c in clusters:
        half = z_crit * math.sqrt(c["variance"]) if math.isfinite(c["variance"]) else math.nan
        variants.append({"n": c["n"], "users": c["users"], "value": c["value"],
                         "ci": [c["value"] - half, c["value"] + half]})
    diff = clusters[1]["value"] - clusters[0]["value"]
    se = math.sqrt(clusters[0]["variance"] + clusters[1]["variance"])
    z = diff / se if se > 0 else 0.0
    p = float(2 * norm.sf(abs(z))) if math.isfinite(z) else 1.0
    return {"variants": variants, "difference": diff, "difference_ci": [diff - z_crit * se, diff + z_crit * se],
            "test": "z-test with user-clustered (sandwich) variance", "statistic": z, "p_value": p,
            "design_effect": _design_effect(a, b, clusters)}


def _design_effect(a, b, clusters) -> float:
    """Variance of B - A with clustering over the variance were every row independent (>= 1 in practice)."""
    naive = sum(float(x.var(ddof=1)) / len(x) for x in (a, b) if len(x) > 1)
    clustered = clusters[0]["variance"] + clusters[1]["variance"]
    return float(clustered / naive) if naive > 0 and math.isfinite(clustered) else 1.0


def power_section(a, b, binary: bool, clusters, alpha: float, power: float, effect: float | None,
                  test: dict) -> dict:
    from ftspec.stats.power import (
        detectable_effect,
        detectable_mean_shift,
        samples_for_mean_shift,
        samples_per_variant,
    )

    deff = test.get("design_effect", 1.0) if clusters is not None else 1.0
    deff = max(1.0, deff)
    rate_a = float(a.mean())
    out = {"target_power": power, "alpha": alpha, "design_effect": deff}
    if binary:
        out["detectable_effect"] = detectable_effect(rate_a, len(a), len(b), alpha, power, deff) \
            if 0 < rate_a < 1 else None
    else:
        out["detectable_effect"] = detectable_mean_shift(float(a.std(ddof=1)), float(b.std(ddof=1)), len(a),
                                                         len(b), alpha, power, deff)
    if effect:
        if binary and 0 < rate_a < 1 and 0 < rate_a + effect < 1:
            needed = samples_per_variant(rate_a, effect, alpha, power, deff)
        elif not binary:
            sd = math.sqrt((float(a.var(ddof=1)) + float(b.var(ddof=1))) / 2)
            needed = samples_for_mean_shift(sd, effect, alpha, power, deff)
        else:
            needed = None
        out.update(effect=effect, samples_per_variant=needed,
                   more_samples_per_variant=None if needed is None else max(0, needed - min(len(a), len(b))))
    return out
