"""How far the annotators agree (Krippendorff's alpha, the krippendorff library: ordinal for rating scales, nominal
for pass/fail and preferences), and how well each automatic metric follows the human one (Spearman's rho, scipy)."""

from __future__ import annotations

import math

from ftspec.review.scales import is_pass_fail

MIN_PAIRABLE = 2  # units judged by at least two annotators, for alpha to mean anything


def alpha(judgements: list[dict], field: str, level: str) -> dict:
    """Krippendorff's alpha over (annotator x row) of one criterion; alpha None when no row has two judgements."""
    import numpy as np

    annotators = sorted({str(j["annotator"]) for j in judgements})
    units = sorted({j["row"] for j in judgements})
    table = np.full((len(annotators), len(units)), np.nan)
    where_a, where_u = {a: i for i, a in enumerate(annotators)}, {u: i for i, u in enumerate(units)}
    for j in judgements:
        table[where_a[str(j["annotator"])], where_u[j["row"]]] = j[field]
    pairable = int((np.sum(~np.isnan(table), axis=0) >= 2).sum())
    found = {"level": level, "annotators": len(annotators), "rows": len(units), "pairable_rows": pairable,
             "alpha": None}
    if pairable < MIN_PAIRABLE or len(np.unique(table[~np.isnan(table)])) < 2:
        return found
    import krippendorff

    value = float(krippendorff.alpha(reliability_data=table, level_of_measurement=level))
    found["alpha"] = value if math.isfinite(value) else None
    return found


_WINNER_CODE = {"this": 1.0, "other": 0.0, "tie": 0.5}


def agreement(ratings: list[dict], preferences: list[dict], rubric) -> dict:
    """criterion -> alpha entry; `preference` for the pairwise judgements."""
    found = {}
    for criterion in rubric:
        rows = [r for r in ratings if r["criterion"] == criterion.name]
        if rows:
            found[criterion.name] = alpha(rows, "value", "nominal" if is_pass_fail(criterion.scale) else "ordinal")
    if preferences:
        coded = [{**p, "code": _WINNER_CODE[p["winner"]]} for p in preferences]
        found["preference"] = alpha(coded, "code", "nominal")
    return found


def correlation(auto: dict[str, float], human: dict[str, float]) -> dict:
    """Spearman's rho between an automatic metric's per-row scores and the human per-row means, on the rows both
    have; rho None when fewer than 3 rows or either side is constant."""
    shared = sorted(set(auto) & set(human))
    x, y = [auto[k] for k in shared], [human[k] for k in shared]
    found = {"n": len(shared), "method": "spearman", "rho": None, "p_value": None}
    if len(shared) < 3 or len(set(x)) < 2 or len(set(y)) < 2:
        return found
    from scipy.stats import spearmanr

    result = spearmanr(x, y)
    found["rho"], found["p_value"] = float(result.statistic), float(result.pvalue)
    return found
