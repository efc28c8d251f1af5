"""Text tests shared by the checks: normalised keys and the placeholder heuristics (after AlpacaDataCleaned)."""

from __future__ import annotations

import re

WHITESPACE = b" \t\n\r\x0b\x0c"

# Values that stand in for content (compared lower-cased and stripped).
PLACEHOLDERS = frozenset({
    "n/a", "n.a.", "<n/a>", "<na>", "<no output>", "<nooutput>", "no output", "nooutput", "<no input>",
    "<noinput>", "no input", "noinput", "<none>", "<empty>", "<blank>", "<null>", "[blank]", "[empty]", "tbd",
    "todo", "<todo>", "placeholder", "<placeholder>", "lorem ipsum", "(no output)", "(no input)", "(none)",
})
_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~…–—‘’“”«»·•¿¡ \t\r\n"
_URL_ONLY = re.compile(r"\s*(?:(?:https?|ftp)://|www\.)\S+\s*", re.I)
_MEDIA = re.compile(
    r"\s*[<\[(]\s*(?:(?:picture|image|img|photo|photograph|video|audio|file|attachment|screenshot|diagram|chart|"
    r"graph|map|link|url|pdf|document|table)s?\b[^<>\[\]()]{0,30}|attached[^<>\[\]()]{0,30})[>\])]\s*", re.I)
_MEDIA_PHRASE = re.compile(r"\b(?:picture|image|photo|file|screenshot|video|audio|document)s?\s+(?:is\s+)?"
                           r"attached\b|\bsee\s+(?:the\s+)?attach", re.I)
_MERGED = re.compile(r"(?:\n[ \t]*(?:#{1,4}[ \t]*)?(?:\d{1,2}[ \t]*[.)][ \t]*)?|\b\d{1,2}[ \t]*[.)][ \t]*)"
                     r"instruction[ \t]*\d*[ \t]*:", re.I)


def text_key(value: str) -> int:
    """A hash of the text ignoring case and all whitespace (encoding then deleting bytes is ~3x faster than
    ' '.join(value.lower().split())). In-process only: Python salts str/bytes hashes per run."""
    return hash(value.lower().encode("utf-8", "surrogatepass").translate(None, WHITESPACE))


_ASCII_LOWER = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")


def column_keys(texts: list[str]) -> tuple[bytes, list[bytes]] | None:
    """text_key()'s bytes (before hashing) of each of a batch's texts, from one joined string, and that string;
    None when a text holds a NUL (the separator) or a lone surrogate. ASCII text (most) is lower-cased with the
    whitespace removal in one bytes.translate; str.lower() and str.encode() on the joined string would take the
    slow path for all of it as soon as one character is not ASCII, so only such texts get it."""
    joined = "\x00".join(texts)
    try:
        if joined.isascii():
            data = joined.encode()
        else:
            data = b"\x00".join(map(str.encode, [text if text.isascii() else text.lower() for text in texts]))
    except UnicodeEncodeError:
        return None
    normalised = data.translate(_ASCII_LOWER, WHITESPACE)
    parts = normalised.split(b"\x00")
    return (normalised, parts) if len(parts) == len(texts) else None


def positions_holding(joined: bytes, needle: bytes, separator: bytes = b"\x00") -> set[int]:
    """The positions, in the list that joined.split(separator) gives, of the items holding needle."""
    found, at, index, counted = set(), joined.find(needle), 0, 0
    while at != -1:
        index += joined.count(separator, counted, at)
        counted = at
        found.add(index)
        at = joined.find(needle, at + len(needle))
    return found


_PUNCT_TO_SPACE = bytes.maketrans(b"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", b" " * 32)


def words(value: str) -> list[bytes]:
    """The words of a text for MinHash: lower case, ASCII punctuation as space (bytes: ~3x faster than str)."""
    return value.lower().encode("utf-8", "surrogatepass").translate(_PUNCT_TO_SPACE).split()


SHORT = 40  # a value this short may be a degenerate placeholder
_URL_START, _MEDIA_START, _SPACE = frozenset("hHfFwW"), frozenset("<[("), frozenset(" \t\r\n")
SOURCE_START = _URL_START | _MEDIA_START | _SPACE  # how a bare URL or media tag starts (or whitespace before it)


def placeholder_gate(is_target: bool) -> int:
    """How long a source may be and still be a bare URL or media tag; targets are never checked for those."""
    return 0 if is_target else 300


def placeholder_suspects(texts: list[str], gate: int) -> list[int]:
    """The positions of the texts that placeholder_reason() may flag, unless it is for a merge: a short text that
    is a placeholder or only punctuation, or (a source, gate > 0) one short enough to be a bare URL or attachment
    and starting like one. A superset; placeholder_reason() decides."""
    if not gate:
        return [i for i, text in enumerate(texts) if 0 < len(text) <= SHORT and _degenerate(text)]
    return [i for i, text in enumerate(texts) if text and (
        (len(text) <= gate and (text[0] in SOURCE_START or "ttach" in text)) or (
            len(text) <= SHORT and _degenerate(text)))]


def _degenerate(value: str) -> str | None:
    """Why a short value is no content at all (a placeholder, or only punctuation), or None."""
    bare = value.strip().lower()
    if bare in PLACEHOLDERS:
        return f"placeholder value {value.strip()!r}"
    if not bare.strip(_PUNCTUATION):
        return f"only punctuation: {value.strip()!r}"
    return None


# An instruction that asks about a URL itself (is it secure, whose domain is it) rather than about the page
_ABOUT_URL = re.compile(r"\b(?:url|link|domain|web ?address|hostname)s?\b", re.I)
_ABOUT_PAGE = re.compile(r"summar|content|text|article|read|says?\b|page|lyrics|news|story|post\b", re.I)
# An instruction that asks about a path or a symbol, whose input may be only punctuation (`/`, `~`, `%`)
_ABOUT_SYMBOL = re.compile(r"\b(?:director(?:y|ies)|path|folder|symbol|character|punctuation|operator|sign)s?\b",
                           re.I)


def _standalone_in(value: str, text: str) -> bool:
    """The value appears in the text on its own (between spaces, quotes or brackets): the answer uses it."""
    return re.search(rf"(?<![^\s'\"(\[`]){re.escape(value)}(?![^\s'\")\]`.,;:])", text) is not None


def _url_asked_for(url: str, instruction: str, target: str) -> bool:
    """A bare URL is the task's real input when the answer uses it (the URL, or its host: a tool call that fetches
    the page, a `whois`), or the instruction asks about the URL itself rather than what the page says."""
    host = re.sub(r"^(?:(?:https?|ftp)://)", "", url, flags=re.I).split("/")[0]
    if url in target or (host and _standalone_in(host, target)):
        return True
    return bool(_ABOUT_URL.search(instruction)) and not _ABOUT_PAGE.search(instruction)


def placeholder_reason(value: str, is_target: bool, target: str = "", instruction: str = "") -> str | None:
    """Why a value is a placeholder rather than content, or None. Cheap tests come first: most rows pass them.
    A short input that the instruction asks for is content: a URL the answer acts on, `/` for a `du -sh /` task
    (an input only of punctuation that the answer uses, or that the instruction asks about as a path or symbol)."""
    size = len(value)
    if size <= SHORT and (reason := _degenerate(value)):
        bare = value.strip()
        if is_target or not bare or bare.lower() in PLACEHOLDERS or not (
                _standalone_in(bare, target) or _ABOUT_SYMBOL.search(instruction)):
            return reason
    if size <= 300 and not is_target:
        first = value[0] if value[0] not in _SPACE else value.lstrip()[:1]
        if first in _URL_START and _URL_ONLY.fullmatch(value) and not _url_asked_for(value.strip(), instruction,
                                                                                    target):
            return "only a URL: the model never sees the page"
        if first in _MEDIA_START and _MEDIA.fullmatch(value):
            return f"refers to media the model never sees: {value.strip()!r}"
        if "ttach" in value and _MEDIA_PHRASE.search(value):
            return "refers to an attachment the model never sees"
    if ("nstruction" in value or "NSTRUCTION" in value) and _MERGED.search(value):
        return "several instructions merged into one row"
    return None


class Boilerplate:
    """Lines shared by many rows (a tool preamble, a system prompt, a fixed instruction). They are left out of the
    near-duplicate comparison: two rows with the same 50-word preamble and different questions are otherwise
    'near duplicates' by word overlap. Learnt from a sample of rows before the audit's pass."""

    def __init__(self, min_share: float = 0.01, min_rows: int = 3):
        self.min_share, self.min_rows = min_share, min_rows
        self.counts: dict[str, int] = {}
        self.sampled = 0
        self.lines: frozenset[str] = frozenset()

    def observe(self, *texts: str) -> None:
        self.sampled += 1
        counts = self.counts
        for line in {line for text in texts for line in text.split("\n")}:
            counts[line] = counts.get(line, 0) + 1

    def settle(self) -> None:
        floor = max(self.min_rows, self.min_share * self.sampled)
        self.lines = frozenset(line for line, count in self.counts.items() if count >= floor and line.strip())
        self.counts = {}

    def words(self, *texts: str) -> list[bytes]:
        """The words of the texts without their boilerplate lines (all of them if nothing else is left)."""
        text = "\n".join(texts)
        if self.lines:
            lines = self.lines
            kept = words("\n".join(line for line in text.split("\n") if line not in lines))
            if kept:
                return kept
        return words(text)
