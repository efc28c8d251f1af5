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

    _check_tabs(text, file)
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        node = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = (exc.problem or exc.context or "invalid YAML").strip()
        hint = "check the indentation, brackets and quotes at this point and on the line above"
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
    return _plain(node, (), smap, (1, 1)), smap


def _complex_key(text: str) -> tuple[int | None, int | None]:
    """Where the first explicit (`? `) key is, 1-based, if there is one."""
    import re

    match = re.search(r"^( *(?:- +)?)\?(?:\s|$)", text, re.MULTILINE)
    if match is None:
        return None, None
    return text.count("\n", 0, match.start()) + 1, len(match.group(1)) + 1


def _plain(node: object, path: PathKey, smap: SourceMap, pos: tuple[int, int]) -> object:
    """Convert ruamel's round-trip nodes into plain data, recording positions on the way."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    smap.values[path] = pos
    if isinstance(node, CommentedMap):
        out = {}
        for key, value in node.items():
            kline, kcol = node.lc.key(key)
            vline, vcol = node.lc.value(key)
            if not isinstance(key, (str, int, float)) and key is not None:  # `? [a, b]`, `? {a: 1}`: ruamel's key forms
                raise _problem(smap.file, kline + 1, kcol + 1, COMPLEX_KEY, COMPLEX_KEY_HINT)
            child = (*path, str(key))
            smap.keys[child] = (kline + 1, kcol + 1)
            out[str(key)] = _plain(value, child, smap, (vline + 1, vcol + 1))
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for index, value in enumerate(node):
            line, col = node.lc.item(index)
            items.append(_plain(value, (*path, index), smap, (line + 1, col + 1)))
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
