"""The stage behind `ftspec ab LOG`: read an A/B test of two model versions from production outcomes, and
`ftspec ab --plan` (ftspec.commands.ab presents the result and exits with its code).

Tests (B - A, A the control):
- 0/1 outcomes: the two-proportion z-test (statsmodels proportions_ztest), Wilson CIs per variant, a Wald CI of the
  difference;
- other outcomes: Welch's t-test (scipy), with Mann-Whitney's p-value beside it;
- clustered: when a user (or session) column repeats, rows of one user are not independent: each variant's rate or
  mean is a ratio over users with a cluster-robust (sandwich) variance, and the difference gets a z-test on it.
Power: the smallest effect the data detect (statsmodels, with the clustering's design effect) and, for a target
effect (--effect), how many more rows per variant it needs.

Peeking: every look at a log is recorded beside it (LOG.ab-looks.json). Checking a growing log again and stopping at
the first significant p-value overstates significance, so a repeat look warns unless a sequential method is chosen
(--sequential obrien-fleming --planned-n N: Lan-DeMets O'Brien-Fleming boundaries at the looks recorded, see
ftspec.versions.sequential).

Exit codes: 0 B better or no detectable difference · 1 B worse (significantly) · 2 invalid log or arguments.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

from ftspec.errors import ExitCode, UsageError
from ftspec.versions.ablog import ABLog, read_log

LOOKS_SUFFIX = ".ab-looks.json"
MAX_LOOKS_KEPT = 1000


def ab_result(log: Path | None = None, metric: str = "outcome", variant_field: str = "variant",
              user_field: str | None = None, control: str | None = None, lower_is_better: bool | None = None,
              alpha: float = 0.05, power: float = 0.8, effect: float | None = None, sequential: str = "none",
              planned_n: int | None = None, plan: bool = False, baseline_rate: float | None = None) -> dict:
    """The plan of a test (--plan) or the reading of a log, its look recorded beside it; `exit_code` says the
    verdict's exit code (0, or 1 when B is significantly worse)."""
    _check_levels(alpha, power)
    if plan:
        result = plan_test(baseline_rate, effect, alpha, power)
    else:
        if log is None:
            raise UsageError("no A/B log given", "pass LOG (JSONL or CSV), or --plan to size a test before it runs")
        if sequential != "none" and not planned_n:
            raise UsageError("--sequential needs --planned-n", "pass the rows the test will have in all")
        data = read_log(Path(log), metric, variant_field, user_field)
        looks = read_looks(Path(log))
        earlier = sorted({k["rows"] for k in looks if k.get("metric") == metric and k["rows"] < data.rows})
        result = analyse(data, control=control, lower_is_better=lower_is_better, alpha=alpha, power=power,
                         effect=effect, sequential=sequential, planned_n=planned_n, earlier_rows=earlier)
        result["warnings"] += record_look(Path(log), looks, result, earlier, sequential)
    return result


def _check_levels(alpha: float, power: float) -> None:
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise UsageError("--alpha and --power must lie strictly between 0 and 1", "e.g. --alpha 0.05 --power 0.8")


def plan_test(baseline_rate: float | None, effect: float | None, alpha: float, power: float) -> dict:
    from ftspec.stats.power import samples_per_variant

    if baseline_rate is None or effect is None:
        raise UsageError("--plan needs --baseline-rate P and --effect D", "e.g. --baseline-rate 0.2 --effect 0.02")
    if not 0 < baseline_rate < 1 or not 0 < baseline_rate + effect < 1 or effect == 0:
        raise UsageError(f"a rate of {baseline_rate} moving by {effect} is not a change between two rates in (0, 1)",
                         "pass the control's rate and a non-zero change, e.g. --baseline-rate 0.2 --effect 0.02")
    n = samples_per_variant(baseline_rate, effect, alpha, power)
    return {"plan": True, "baseline_rate": baseline_rate, "effect": effect, "alpha": alpha, "power": power,
            "samples_per_variant": n, "samples_total": 2 * n, "test": "two-proportion z-test (two-sided)",
            "warnings": ["rows of one user are not independent: multiply by the design effect 1 + (m - 1) ICC "
                         "when users return (m rows a user)"], "exit_code": 0}


def _arms(data: ABLog, control: str | None) -> tuple[str, str]:
    names = list(data.arms)
    if len(names) != 2:
        raise UsageError(f"the log has {len(names)} variant(s) ({', '.join(names[:10]) or 'none'}); an A/B test "
                         "compares exactly two", "filter the log to two variants, or check --variant-field")
    if control is None:
        control = next((n for n in names if n.lower() in ("a", "control", "baseline")), names[0])
    if control not in names:
        raise UsageError(f"no variant `{control}` in the log", f"the variants are {names[0]} and {names[1]}")
    return control, next(n for n in names if n != control)


def analyse(data: ABLog, *, control: str | None = None, lower_is_better: bool | None = None, alpha: float = 0.05,
            power: float = 0.8, effect: float | None = None, sequential: str = "none",
            planned_n: int | None = None, earlier_rows: list[int] | None = None) -> dict:
    import numpy as np

    from ftspec.versions.abstats import cluster_summary, difference_test, power_section

    name_a, name_b = _arms(data, control)
    a = np.frombuffer(data.arms[name_a].outcomes, dtype=float)
    b = np.frombuffer(data.arms[name_b].outcomes, dtype=float)
    binary = bool(np.isin(a, (0.0, 1.0)).all() and np.isin(b, (0.0, 1.0)).all())
    users = [np.frombuffer(data.arms[n].users, dtype=np.int64) if data.user_field else None for n in (name_a, name_b)]
    clusters = [cluster_summary(x, u) for x, u in zip((a, b), users, strict=True)]
    clustered = any(c is not None and c["users"] < c["n"] for c in clusters)
    lower = ("latency" in data.metric.lower()) if lower_is_better is None else lower_is_better
    test = difference_test(a, b, clusters if clustered else None, binary, alpha)
    warnings = _overlap_warning(users) if data.user_field else []
    result = {"plan": False, "log": str(data.path), "rows": data.rows, "metric": data.metric,
              "kind": "binary" if binary else "continuous", "lower_is_better": lower, "clustered": clustered,
              "user_field": data.user_field or None, "control": name_a, "treatment": name_b,
              "variants": test.pop("variants"), **test, "alpha": alpha, "warnings": warnings}
    result["power"] = power_section(a, b, binary, clusters if clustered else None, alpha, power, effect, test)
    result["sequential"] = _sequential(result, sequential, planned_n, alpha, earlier_rows or [])
    result["verdict"], result["exit_code"] = _verdict(result)
    return result


def _overlap_warning(users) -> list[str]:
    import numpy as np

    both = np.intersect1d(users[0], users[1]).size
    return [f"{both} users appear in both variants: assignment leaked, so the variants are not independent"] \
        if both else []


def _sequential(result: dict, method: str, planned_n: int | None, alpha: float, earlier_rows: list[int]) -> dict:
    """The O'Brien-Fleming-type boundary at this look, given the looks taken before (ftspec.versions.sequential)."""
    from scipy.stats import norm

    from ftspec.versions.sequential import obrien_fleming_boundaries

    if method == "none":
        return {"method": "none"}
    fractions = [min(1.0, rows / planned_n) for rows in [*earlier_rows, result["rows"]]]
    boundaries = obrien_fleming_boundaries(fractions, alpha)
    z = float(norm.isf(result["p_value"] / 2)) if result["p_value"] > 0 else math.inf
    if result["rows"] > planned_n:
        result["warnings"].append(f"the log has {result['rows']} rows, more than the {planned_n} planned: the "
                                  "boundary is the final look's")
    return {"method": method, "planned_n": planned_n, "information_fractions": fractions,
            "information_fraction": fractions[-1], "z": z, "boundaries_z": boundaries, "boundary_z": boundaries[-1],
            "nominal_alpha": float(2 * norm.sf(boundaries[-1])), "crossed": abs(z) >= boundaries[-1]}


def _verdict(result: dict) -> tuple[str, int]:
    seq = result["sequential"]
    significant = seq["crossed"] if seq["method"] != "none" else result["p_value"] < result["alpha"]
    diff = result["difference"]
    if not significant or diff == 0 or not math.isfinite(diff):
        return "no detectable difference", int(ExitCode.OK)
    better = (diff < 0) if result["lower_is_better"] else (diff > 0)
    return ("B better", int(ExitCode.OK)) if better else ("B worse", int(ExitCode.GATE_FAILED))


def read_looks(log: Path) -> list[dict]:
    """The looks recorded beside the log (LOG.ab-looks.json); an unreadable record counts as none."""
    path = log.with_name(log.name + LOOKS_SUFFIX)
    try:
        looks = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
    except (OSError, ValueError):
        return []
    return [k for k in looks if isinstance(k, dict) and isinstance(k.get("rows"), int)] if isinstance(looks, list) \
        else []


def record_look(log: Path, looks: list[dict], result: dict, earlier: list[int], sequential: str) -> list[str]:
    """Record this look beside the log; a warning when an earlier look saw fewer rows and no sequential method is
    chosen. An unwritable folder only loses the record (and says so)."""
    from ftspec.fsutil import atomic_write_text

    path = log.with_name(log.name + LOOKS_SUFFIX)
    looks = (looks + [{"time": time.time(), "rows": result["rows"], "metric": result["metric"],
                       "p_value": result["p_value"], "sequential": sequential}])[-MAX_LOOKS_KEPT:]
    result["looks"] = len(earlier) + 1
    warnings = []
    try:
        atomic_write_text(path, json.dumps(looks, indent=1) + "\n")
    except OSError as exc:
        warnings.append(f"could not record this look in {path}: {exc}")
    if earlier and sequential == "none":
        warnings.append(f"this is look {result['looks']} at a growing log (earlier looks in {path.name}): stopping "
                        "at the first significant p-value overstates significance; plan the looks with "
                        "--sequential obrien-fleming --planned-n N, or decide the sample size first (--plan)")
    return warnings
