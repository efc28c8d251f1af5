"""Thresholds: ">= 0.9", "<= 300", "> +0.05", or a bare number meaning >=."""

from __future__ import annotations

import math
import re

from pydantic import BaseModel, ConfigDict

OPS = (">=", "<=", ">", "<", "==")
_PATTERN = re.compile(r"^\s*(>=|<=|==|>|<)?\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(%?)\s*$")
EXAMPLE = "write a comparison such as '>= 0.9' or '<= 300', or a bare number (meaning >=)"


class Threshold(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    op: str
    value: float

    def passes(self, observed: float) -> bool:
        if observed is None or math.isnan(observed):
            return False  # a missing or NaN value never passes a gate
        return {">=": observed >= self.value, "<=": observed <= self.value, ">": observed > self.value,
                "<": observed < self.value, "==": observed == self.value}[self.op]

    @property
    def higher_is_better(self) -> bool:
        return self.op in (">=", ">")

    def __str__(self) -> str:
        return f"{self.op} {self.value:g}"


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
    op, number, percent = match.groups()
    value = float(number) / (100 if percent else 1)
    return Threshold(op=op or ">=", value=value)
