"""'Did you mean' hints for near-miss keys and values."""

from __future__ import annotations

import difflib


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str | None:
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        close = [lowered[str(word).lower()]] if str(word).lower() in lowered else []
    return f"did you mean `{close[0]}`?" if close else None


def one_of(choices: list[str] | tuple[str, ...]) -> str:
    return "use one of: " + ", ".join(choices)
