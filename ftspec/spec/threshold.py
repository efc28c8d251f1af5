"""Thresholds: ">= 0.9", "<= 300", "> +0.05", ">= 90%", "<= 2 s", or a bare number meaning >=.

A unit, where written, is kept (`unit`) so the metric's declaration can refuse a foreign one (a percentage for a
latency); times are converted to milliseconds, the unit of every latency metric."""

from __future__ import annotations

import math
import re

from pydantic import BaseModel, ConfigDict

OPS = (">=", "<=", ">", "<", "==")
_PATTERN = re.compile(r"^\s*(>=|<=|==|>|<)?\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(%|[A-Za-z]+)?\s*$")
EXAMPLE = "write a comparison such as '>= 0.9' or '<= 300', or a bare number (meaning >=)"
# written unit -> (the unit kept, the factor into it)
UNITS = {"%": ("%", 0.01), "ms": ("ms", 1.0), "msec": ("ms", 1.0), "milliseconds": ("ms", 1.0),
         "s": ("ms", 1000.0), "sec": ("ms", 1000.0), "secs": ("ms", 1000.0), "second": ("ms", 1000.0),
         "seconds": ("ms", 1000.0)}


class Threshold(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    op: str
    value: float
    unit: str = ""  # as written: "" (none), "%" (value already divided by 100) or "ms" (value in milliseconds)

    def passes(self, observed: float) -> bool:
        if observed is None or math.isnan(observed):
            return False  # a missing or NaN value never passes a gate
        return {">=": observed >= self.value, "<=": observed <= self.value, ">": observed > self.value,
                "<": observed < self.value, "==": observed == self.value}[self.op]

    @property
    def higher_is_better(self) -> bool:
        return self.op in (">=", ">")

    def __str__(self) -> str:
        return f"{self.op} {self.value:g}" + (" ms" if self.unit == "ms" else "")


def parse_threshold(raw: object) -> Threshold:
    """Parse a threshold or raise ValueError with a message fit for the user."""
    if isinstance(raw, bool) or raw is None:
        raise ValueError(f"a threshold is required; {EXAMPLE}")
    if isinstance(raw, (int, float)):
        if math.isnan(raw):
            raise ValueError(f"a threshold cannot be NaN; {EXAMPLE}")
        return Threshold(op=">=", value=float(raw))
    if isinstance(raw, Threshold):
        return raw
    if not isinstance(raw, str):
        raise ValueError(f"a threshold must be a string or a number, not {type(raw).__name__}; {EXAMPLE}")
    if not raw.strip():
        raise ValueError(f"a blank threshold is not 'no threshold'; {EXAMPLE}")
    match = _PATTERN.match(raw)
    if not match:
        raise ValueError(f"malformed threshold {raw!r}; {EXAMPLE}")
    op, number, written = match.groups()
    if written and written.lower() not in UNITS:
        raise ValueError(f"unknown unit `{written}` in threshold {raw!r}; latency is in milliseconds ('<= 300', "
                         "or '<= 0.3 s'), a share may be a percentage ('>= 90%'), other metrics take a bare number")
    unit, factor = UNITS[written.lower()] if written else ("", 1.0)
    value = float(number) / 100 if unit == "%" else float(number) * factor  # / 100: 90% is 0.9 exactly
    return Threshold(op=op or ">=", value=value, unit=unit)
