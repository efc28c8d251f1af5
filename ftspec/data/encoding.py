"""The `encoding` check: mojibake (UTF-8 read as Latin-1 or Windows-1252, such as `xÂ²` for `x²`), found and repaired
by ftfy's fix_encoding (only the encoding repair: curly quotes, HTML entities and the rest are left as they are).

ftfy is thorough but slow (a large regex and trial decodings), so it sees only the texts that a cheap test
suspects: a character that UTF-8 lead bytes become (Â to ô) followed by one that continuation bytes become
(U+0080-U+00BF, or their Windows-1252 forms such as ’ or €). ASCII text, and accented text such as `café` or
`naïve`, never reach ftfy."""

from __future__ import annotations

import re

# a lead byte of a 2-4 byte UTF-8 sequence as Latin-1, then a continuation byte as Latin-1 or Windows-1252
_SUSPECT = re.compile("[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
                      "\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]")
CONTEXT = 12  # characters shown on each side of a repair


def suspects(texts: list[str]) -> list[int]:
    """The positions of the texts that may hold mojibake (a superset: repaired() decides)."""
    if "".join(texts).isascii():
        return []
    search = _SUSPECT.search
    return [i for i, text in enumerate(texts) if not text.isascii() and search(text)]


def suspect(text: str) -> bool:
    return not text.isascii() and _SUSPECT.search(text) is not None


def repaired(text: str) -> str | None:
    """The text with its mojibake repaired, or None where ftfy finds nothing to repair."""
    if not suspect(text):
        return None
    from ftfy import fix_encoding  # ~0.2 s to import: only once a text is suspected

    # line by line, and only the suspected lines: ftfy's time grows with the text (~1 ms for 500 characters)
    lines = text.split("\n")
    fixed = "\n".join(fix_encoding(line) if suspect(line) else line for line in lines)
    return fixed if fixed != text else None


def describe(text: str, fixed: str) -> str:
    """The first repaired spot with a little context: `'of 50Â°F today' -> 'of 50°F today'`."""
    shorter = min(len(text), len(fixed))
    start = next((i for i, (a, b) in enumerate(zip(text, fixed, strict=False)) if a != b), shorter)
    tail = 0  # characters equal at the ends
    while tail < min(len(text), len(fixed)) - start and text[-1 - tail] == fixed[-1 - tail]:
        tail += 1
    left = max(0, start - CONTEXT)
    before, after = text[left:len(text) - tail + CONTEXT], fixed[left:len(fixed) - tail + CONTEXT]
    return f"mojibake {before!r} -> {after!r}"


def repair_record(record: object, depth: int = 0) -> tuple[object, int]:
    """The record with every string in it repaired (lists and mappings walked, up to the readers' depth limit),
    and how many strings changed."""
    from ftspec.data.readers import MAX_DEPTH

    if isinstance(record, str):
        fixed = repaired(record)
        return (record, 0) if fixed is None else (fixed, 1)
    if depth > MAX_DEPTH:
        return record, 0
    if isinstance(record, dict):
        changed = 0
        out = {}
        for key, value in record.items():
            out[key], count = repair_record(value, depth + 1)
            changed += count
        return out, changed
    if isinstance(record, list):
        items = [repair_record(value, depth + 1) for value in record]
        return [value for value, _ in items], sum(count for _, count in items)
    return record, 0
