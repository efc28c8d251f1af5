"""A rubric criterion's scale: what an annotator may answer and the number it stands for."""

from __future__ import annotations

PASS_FAIL = "pass_fail"
PASS, FAIL = "pass", "fail"
SIDES = ("left", "right", "tie")


def is_pass_fail(scale: str) -> bool:
    return scale == PASS_FAIL


def top(scale: str) -> int:
    """The highest rating of a numeric scale "1-N"."""
    return int(scale.split("-", 1)[1])


def value_of(scale: str, answer: object) -> float | None:
    """The number an answer stands for (pass 1, fail 0; a rating itself), or None when it is off the scale."""
    if is_pass_fail(scale):
        return {PASS: 1.0, FAIL: 0.0}.get(str(answer).strip().lower()) if answer is not None else None
    try:
        number = float(str(answer).strip())
    except ValueError:
        return None
    return number if number.is_integer() and 1 <= number <= top(scale) else None


def scale_text(scale: str) -> str:
    return "pass or fail" if is_pass_fail(scale) else f"a whole number from 1 to {top(scale)}"
