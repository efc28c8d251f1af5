"""The search space: the spec's `sweep.space` as Optuna distributions, the grid's points, and a trial's settings."""

from __future__ import annotations

import itertools
import math

from ftspec.spec.models import Sweep, SweepParam

INT_KEYS = ("batch_size", "gradient_accumulation", "lora_r")
ADAPTER_KEYS = ("lora_r", "lora_alpha", "lora_dropout")


def params(sweep: Sweep) -> dict[str, SweepParam]:
    """The searched keys, in the spec model's order."""
    return {key: value for key, value in sweep.space if value is not None}


def typed(key: str, value: float | str) -> float | int | str:
    """A value as train.py's constant holds it: whole numbers for counts, a float otherwise (epochs 2.0 -> 2)."""
    if isinstance(value, str):
        return value
    if key in INT_KEYS or (key == "epochs" and float(value).is_integer()):
        return int(round(value))
    return float(value)


def distributions(sweep: Sweep) -> dict:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    found = {}
    for key, param in params(sweep).items():
        if param.values is not None:
            found[key] = CategoricalDistribution(tuple(dict.fromkeys(typed(key, v) for v in param.values)))
        elif key in INT_KEYS:
            found[key] = IntDistribution(int(math.ceil(param.low)), int(param.high), log=param.log)
        else:
            found[key] = FloatDistribution(param.low, param.high, log=param.log)
    return found


def grid_values(key: str, param: SweepParam) -> list:
    if param.values is not None:
        return list(dict.fromkeys(typed(key, v) for v in param.values))
    n = param.grid_points
    if param.log:
        points = [param.low * (param.high / param.low) ** (i / (n - 1)) for i in range(n)]
    else:
        points = [param.low + (param.high - param.low) * i / (n - 1) for i in range(n)]
    return list(dict.fromkeys(typed(key, min(max(p, param.low), param.high)) for p in points))


def grid(sweep: Sweep) -> list[dict]:
    """Every combination of the grid's points (the coarse pass), in a fixed order."""
    found = params(sweep)
    keys = list(found)
    return [dict(zip(keys, combo, strict=True))
            for combo in itertools.product(*(grid_values(k, found[k]) for k in keys))]


def direction(sweep: Sweep) -> str:
    """The spec's, else the objective's own: eval_loss is minimised, a metric goes the way it is better."""
    if sweep.direction is not None:
        return sweep.direction
    if sweep.objective == "eval_loss":
        return "minimize"
    from ftspec.metrics import METRICS

    return "maximize" if METRICS[sweep.objective].higher_is_better else "minimize"
