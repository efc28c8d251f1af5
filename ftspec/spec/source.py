"""Read YAML into plain Python data plus a map from every dotted path to its line and column.

ruamel.yaml keeps positions and, unlike PyYAML, refuses duplicate keys instead of keeping the last one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ftspec.errors import Location, Problem, SpecError

PathKey = tuple  # of str keys and int indices
COMPLEX_KEY = "YAML: a key must be a plain value, not a list or a mapping"
COMPLEX_KEY_HINT = "remove the `?` that makes the entry below it a key, or quote the key"

# A spec is untrusted input (CI runs `ftspec check` on pull requests): its cost is bounded. A real spec is a few KB
# with a few hundred values; these limits are far above that and below what would take a second. ruamel parses
# ~60k values a second here (30-40 us each): 64 KiB of YAML is at most ~20k values.
MAX_SPEC_BYTES = 64 << 10  # 64 KiB
MAX_VALUES = 100_000  # values after aliases are expanded (a nine-level alias bomb of 1.6 KB expands to 387M)
MAX_ALIASES = 1_000  # uses of an anchored list or mapping (`*name`)
MAX_DEPTH = 64  # nested lists and mappings
LIMIT_HINT = "a spec is a small, hand-written file: remove the generated or repeated part"


@dataclass
class SourceMap:
    file: str
    values: dict[PathKey, tuple[int, int]] = field(default_factory=dict)  # 1-based (line, col) of each value
    keys: dict[PathKey, tuple[int, int]] = field(default_factory=dict)  # 1-based (line, col) of each mapping key

    def locate(self, path: PathKey, *, key: bool = False) -> Location:
        """The nearest known position: the key itself when asked (unknown keys), else the value or an ancestor."""
        path = tuple(path)
        if key and path in self.keys:
            return Location(self.file, *self.keys[path])
        while path:
            if path in self.values:
                return Location(self.file, *self.values[path])
            path = path[:-1]
        return Location(self.file, *self.values.get((), (1, 1)))


def dotted(path: PathKey) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _problem(file: str, line: int | None, col: int | None, message: str, hint: str | None = None) -> SpecError:
    return SpecError([Problem(Location(file, line, col), "", message, hint)])


def read_text(path: Path) -> str:
    """Read a spec file as UTF-8, or raise a located SpecError."""
    shown = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise _problem(shown, None, None, "no such file", "check the path, or run `ftspec init` to start one") from None
    except IsADirectoryError:
        raise _problem(shown, None, None, "is a directory, not a spec file", "name the project's YAML file") from None
    except OSError as exc:
        raise _problem(shown, None, None, f"cannot read the file: {exc.strerror}", "check its permissions") from None
    if len(raw) > MAX_SPEC_BYTES:
        line = raw.count(b"\n", 0, MAX_SPEC_BYTES) + 1
        raise _problem(shown, line, None, f"the spec is larger than {MAX_SPEC_BYTES >> 10} KiB ({len(raw):,} bytes)",
                       LIMIT_HINT)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _problem(shown, line, col, f"not UTF-8 (byte 0x{raw[exc.start]:02x})", "save the file as UTF-8") from None


def _check_tabs(text: str, file: str) -> None:
    for number, line in enumerate(text.splitlines(), 1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent:
            raise _problem(file, number, indent.index("\t") + 1, "a tab in the indentation",
                           "YAML indents with spaces only; replace the tab with spaces") from None


def parse_yaml(text: str, file: str) -> tuple[object, SourceMap]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    if len(text) > MAX_SPEC_BYTES:  # text given directly (load_spec_text); a file is bounded by read_text
        raise _problem(file, text.count("\n", 0, MAX_SPEC_BYTES) + 1, None,
                       f"the spec is larger than {MAX_SPEC_BYTES >> 10} KiB", LIMIT_HINT)
    _check_tabs(text, file)
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        node = yaml.load(text)
    except RecursionError:  # ruamel's composer recurses once a nesting level
        line, col = _too_deep(text)
        raise _problem(file, line, col, f"YAML: nested more than {MAX_DEPTH} levels deep", LIMIT_HINT) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = (exc.problem or exc.context or "invalid YAML").strip()
        hint = "check the indentation, brackets and quotes at this point and on the line above"
        if exc.context_mark and "end of stream" in message and "quoted scalar" in (exc.context or ""):
            # the end of the file is where the scanner gave up; the quote that is never closed is the mistake
            mark, message = exc.context_mark, "a quote opened here is never closed"
            hint = "close the quote on the same line, or remove it"
        if "duplicate key" in message or "found duplicate key" in str(exc):
            key = message.split('"')[1] if '"' in message else ""
            message = f"duplicate key {key!r}".replace(" ''", "")
            hint = "a key may appear once in a mapping; merge the two entries"
        return_line = mark.line + 1 if mark else None
        raise _problem(file, return_line, mark.column + 1 if mark else None, f"YAML: {message}", hint) from None
    except YAMLError as exc:
        raise _problem(file, None, None, f"YAML: {exc}") from None
    except TypeError:  # ruamel cannot hold a mapping or a list as a mapping key (`? {a: 1}`): it is unhashable
        line, col = _complex_key(text)
        raise _problem(file, line, col, COMPLEX_KEY, COMPLEX_KEY_HINT) from None
    smap = SourceMap(file)
    return _Plain(smap).convert(node, (), (1, 1)), smap


def _too_deep(text: str) -> tuple[int | None, int | None]:
    """Where the nesting first passes MAX_DEPTH, from ruamel's parser events (a loop, not a recursion)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent

    depth = 0
    try:
        for event in YAML(typ="rt").parse(text):
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return event.start_mark.line + 1, event.start_mark.column + 1
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except YAMLError:
        pass
    return None, None


def _complex_key(text: str) -> tuple[int | None, int | None]:
    """Where the first explicit (`? `) key is, 1-based, if there is one."""
    import re

    match = re.search(r"^( *(?:- +)?)\?(?:\s|$)", text, re.MULTILINE)
    if match is None:
        return None, None
    return text.count("\n", 0, match.start()) + 1, len(match.group(1)) + 1


class _Plain:
    """Convert ruamel's round-trip nodes into plain data, recording positions on the way. An alias (`*name`) is
    the same ruamel object as its anchor, so it is found by identity; every value is counted as expanded, so an
    alias bomb stops at MAX_VALUES instead of building its billions of values."""

    def __init__(self, smap: SourceMap):
        self.smap = smap
        self.values = 0
        self.aliases = 0
        self.seen: set[int] = set()  # ids of the lists and mappings converted so far

    def limit(self, pos: tuple[int, int], message: str) -> SpecError:
        return _problem(self.smap.file, *pos, message, LIMIT_HINT)

    def convert(self, node: object, path: PathKey, pos: tuple[int, int]) -> object:
        from ruamel.yaml.comments import CommentedMap, CommentedSeq

        self.smap.values[path] = pos
        self.values += 1
        if self.values > MAX_VALUES:
            raise self.limit(pos, f"YAML: more than {MAX_VALUES:,} values once aliases are expanded")
        if isinstance(node, (CommentedMap, CommentedSeq)):
            if len(path) >= MAX_DEPTH:
                raise self.limit(pos, f"YAML: nested more than {MAX_DEPTH} levels deep")
            if id(node) in self.seen:
                self.aliases += 1
                if self.aliases > MAX_ALIASES:
                    raise self.limit(pos, f"YAML: more than {MAX_ALIASES:,} uses of anchored lists or mappings")
            self.seen.add(id(node))
        if isinstance(node, CommentedMap):
            return self.mapping(node, path)
        if isinstance(node, CommentedSeq):
            items = []
            for index, value in enumerate(node):
                line, col = node.lc.item(index)
                items.append(self.convert(value, (*path, index), (line + 1, col + 1)))
            return items
        if isinstance(node, bool) or node is None:
            return node
        if isinstance(node, int):
            return int(node)
        if isinstance(node, float):
            return float(node)
        if isinstance(node, str):
            return str(node)
        return node

    def mapping(self, node, path: PathKey) -> dict:
        smap, out = self.smap, {}
        for key, value in node.items():
            kline, kcol = node.lc.key(key)
            vline, vcol = node.lc.value(key)
            if not isinstance(key, (str, int, float)) and key is not None:  # `? [a, b]`, `? {a: 1}`: ruamel's key forms
                raise _problem(smap.file, kline + 1, kcol + 1, COMPLEX_KEY, COMPLEX_KEY_HINT)
            child = (*path, str(key))
            smap.keys[child] = (kline + 1, kcol + 1)
            out[str(key)] = self.convert(value, child, (vline + 1, vcol + 1))
        return out
