"""Stream the rows of a data file: JSONL, JSON array, CSV or Parquet, each with its line number.

A reader never raises for bad content: an unreadable row comes back as a Row with `error` set and the audit
goes on with the next one. Line numbers are 1-based; for CSV and Parquet the header counts as line 1.

Data files are untrusted input, so a row's cost is bounded: a JSONL line longer than MAX_ROW_BYTES is never held
whole (it is read in pieces and skipped), and a row nested deeper than MAX_DEPTH is an error at its line, found
before the parser recurses (json would raise RecursionError). orjson, the parser of big files, refuses rows nested
deeper than 1,024 levels itself; what it accepts between MAX_DEPTH and that is still refused where a row is
written back (row_payload).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from functools import partial
from itertools import islice, repeat
from pathlib import Path

KINDS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".parquet": "parquet",
         ".pq": "parquet"}
FAST_JSON_BYTES = 4 << 20
BATCH = 1024  # rows a batch: the audit's unit of work
_NEXT_OBJECT = re.compile(r"\n\s*\{")  # where a JSON array resumes after a broken element
MAX_ROW_BYTES = 16 << 20  # a row this long is no training example: refused without being held whole
MAX_DEPTH = 100  # lists and objects nested in one row
MAX_ARRAY_BYTES = 1 << 30  # a JSON array file is parsed whole: past this size, JSONL (read a line at a time) it is
TOO_LONG = f"the row is longer than {MAX_ROW_BYTES >> 20} MiB"
TOO_DEEP = f"the row is nested more than {MAX_DEPTH} levels deep"
_STRUCTURE = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')  # strings (skipped) and brackets


class _Overlong(bytes):
    """Stands for a JSONL line past MAX_ROW_BYTES (its first bytes): the rest of it was read and dropped."""


class Row:
    """One row as read, and what the audit learns about it. One object per row on the hot path, so __init__ sets
    only what the reader knows and the rest are class-level defaults until the audit sets them."""

    split = ""
    view = None  # the format's View; None when the row cannot be used
    flags: list | None = None  # [(check, message)]
    duplicate = False  # an exact duplicate: skip the near-duplicate search
    leaked = False  # an exact leak: skip the near-duplicate leak search

    def __init__(self, line: int, record: object = None, error: str | None = None, raw: bytes | None = None,
                 file: str = ""):
        self.file = file  # as shown: relative to the current folder, or absolute (fsutil.display_path)
        self.line = line
        self.record = record  # the parsed value (a dict for a well-formed row)
        self.error = error  # why the row could not be read
        self.raw = raw  # the original line (JSONL), so a cleaned copy keeps it byte for byte


class Batch:
    """Consecutive rows of one file, as read: their records and line numbers, and a Row for each only when asked
    for. A batch of JSONL lines that all parse (most) is built from the records alone; the audit's fast path then
    makes a Row only for a row it flags, which saves a third of its time."""

    def __init__(self, name: str, rows: list[Row] | None = None, records: list | None = None,
                 raws: list[bytes] | None = None, first: int = 1):
        self.name = name
        self.split = ""  # given to the rows made from here on
        self._rows = rows
        if rows is not None:
            self.records, self.raws, self.lines = [row.record for row in rows], None, [row.line for row in rows]
        else:
            self.records, self.raws, self.lines = records, raws, range(first, first + len(records))
        self._made: dict[int, Row] = {}

    def __len__(self) -> int:
        return len(self.records)

    def size(self) -> int:
        """The bytes read for this batch, where the reader keeps its lines (JSONL); else 0."""
        if self.raws is not None:
            return sum(map(len, self.raws))
        return sum(len(row.raw) for row in self._rows if row.raw is not None)

    def has_rows(self) -> bool:
        return self._rows is not None

    def rows(self) -> list[Row]:
        if self._rows is None:
            rows = list(map(Row, self.lines, self.records, repeat(None), self.raws, repeat(self.name)))
            for row in rows:
                row.split = self.split
            for i, row in self._made.items():
                rows[i] = row
            self._rows = rows
        return self._rows

    def row(self, i: int) -> Row:
        """The Row of the i-th record: always the same object."""
        if self._rows is not None:
            return self._rows[i]
        row = self._made.get(i)
        if row is None:
            row = self._made[i] = Row(self.lines[i], self.records[i], None, self.raws[i], self.name)
            row.split = self.split
        return row


def file_kind(path: Path) -> str:
    """The reader for a path, by extension; a .json file that is not an array is read as JSONL."""
    kind = KINDS.get(path.suffix.lower(), "jsonl")
    if kind == "json" and not _starts_with_bracket(path):
        return "jsonl"
    return kind


def read_rows(path: Path, kind: str | None = None, name: str = "") -> Iterator[Row]:
    """The rows of a file; `name` (the file as shown to the user) is stamped on each."""
    for batch in read_batches(path, kind, name):
        yield from batch.rows()


def read_batches(path: Path, kind: str | None = None, name: str = "") -> Iterator[Batch]:
    """The rows of a file in batches of about BATCH rows (JSONL: BATCH lines, blank ones left out)."""
    kind = kind or file_kind(path)
    try:
        if kind == "jsonl":
            yield from _jsonl(path, name)
            return
        rows = {"json": _json_array, "csv": _csv, "parquet": _parquet}[kind](path, name)
        while batch := list(islice(rows, BATCH)):
            yield Batch(name, batch)
    except OSError as exc:
        yield Batch(name, [Row(1, error=f"cannot read the file: {exc.strerror or exc}", file=name)])


def _starts_with_bracket(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError:
        return False
    return head.startswith(b"[")


def _jsonl(path: Path, name: str) -> Iterator[Batch]:
    fast = _fast_loads(path)
    with path.open("rb") as handle:
        read = iter(partial(handle.readline, MAX_ROW_BYTES + 1), b"")  # a line in pieces of at most this much
        number = 1
        while lines := list(islice(read, BATCH)):
            if max(map(len, lines)) > MAX_ROW_BYTES:  # rare: that batch goes line by line
                lines = _drop_overlong(lines, read)
                yield _jsonl_batch(lines, number, name, None)
            else:
                yield _jsonl_batch(lines, number, name, fast)
            number += len(lines)


def _drop_overlong(lines: list[bytes], read) -> list[bytes]:
    """The lines with each one past MAX_ROW_BYTES replaced by an _Overlong of its first piece; its other pieces
    (in this batch, then from the file) are read and dropped."""
    out, pieces = [], iter(lines)
    for line in pieces:
        if len(line) <= MAX_ROW_BYTES or line.endswith(b"\n"):
            out.append(line)
            continue
        out.append(_Overlong(line[:200]))
        piece = line
        while piece and not piece.endswith(b"\n"):
            piece = next(pieces, None)
            if piece is None:
                piece = next(read, b"")
    return out


def too_deep(text: bytes) -> bool:
    """Whether JSON text nests lists and objects more than MAX_DEPTH levels, without parsing it: counting the
    brackets first (most rows have few), then following them outside strings."""
    if text.count(b"[") + text.count(b"{") <= MAX_DEPTH:
        return False
    depth = 0
    for match in _STRUCTURE.finditer(text):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False


def nested_deeper(value: object, limit: int = MAX_DEPTH) -> bool:
    """Whether a parsed value nests lists and dicts more than `limit` levels (a walk, not a recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _jsonl_batch(lines: list[bytes], first: int, name: str, fast) -> Batch:
    """A batch of lines parsed in one go by orjson where it can; line by line where a line needs json's verdict."""
    if fast is not None:
        try:
            return Batch(name, records=list(map(fast, lines)), raws=lines, first=first)
        except ValueError:  # orjson is stricter (NaN, big ints, lone surrogates), and refuses blank lines
            pass
    rows = (_jsonl_row(number, line, name, fast) for number, line in enumerate(lines, first))
    return Batch(name, [row for row in rows if row is not None])


# JSONDecoder.raw_decode on the decoded line skips json.loads' encoding sniffing and two Python frames.
_raw_decode = json.JSONDecoder().raw_decode


def _jsonl_row(number: int, line: bytes, name: str, fast) -> Row | None:
    if isinstance(line, _Overlong):
        return Row(number, None, TOO_LONG, line, name)
    if too_deep(line):
        return Row(number, None, TOO_DEEP, line, name)
    if fast is not None:
        try:
            return Row(number, fast(line), None, line, name)
        except ValueError:
            pass
    try:
        text = line.decode("utf-8-sig" if number == 1 else "utf-8")
        record, end = _raw_decode(text, 0 if text[:1] not in _LEADING_SPACE else _indent(text))
        if end != len(text) and not text.isspace() and text[end:].strip():
            raise json.JSONDecodeError("Extra data", text, end)
        return Row(number, record, None, line, name)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        if line.strip():  # blank lines are allowed and skipped
            return Row(number, None, _json_message(exc), line, name)
        return None


def _fast_loads(path: Path):
    """orjson's loads (3x faster than json) for files big enough to repay its ~15 ms import, when installed."""
    try:
        if path.stat().st_size < FAST_JSON_BYTES:
            return None
        import orjson
    except (ImportError, OSError):
        return None
    return orjson.loads


_LEADING_SPACE = (" ", "\t", "\r", "\n")


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip())


def _json_message(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON: {exc.msg} (column {exc.pos + 1})"
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8: byte {exc.object[exc.start]:#04x} at column {exc.start + 1}"
    return f"invalid JSON: {exc}"


def _json_array(path: Path, name: str) -> Iterator[Row]:
    """Parse one element at a time so each gets the line where it starts; after a broken element, resume at
    the next line that opens an object (best effort) instead of giving up on the file."""
    if path.stat().st_size > MAX_ARRAY_BYTES:
        yield Row(1, error=f"a JSON array file larger than {MAX_ARRAY_BYTES >> 30} GiB is not read whole: write it as "
                           f"JSONL, one row a line", file=name)
        return
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        yield Row(1, error=f"not UTF-8: byte {exc.object[exc.start]:#04x} at offset {exc.start}", file=name)
        return
    decoder = json.JSONDecoder()
    pos, line, counted = _skip_space(text, text.index("[") + 1), 1, 0
    while pos < len(text) and text[pos] != "]":
        line += text.count("\n", counted, pos)
        counted = pos
        try:
            record, end = decoder.raw_decode(text, pos)
        except (json.JSONDecodeError, RecursionError) as exc:
            message = f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})" if isinstance(
                exc, json.JSONDecodeError) else TOO_DEEP
            yield Row(line, error=message, file=name)
            resume = _NEXT_OBJECT.search(text, max(getattr(exc, "pos", pos), pos + 1))
            if resume is None:
                return
            pos = _skip_space(text, resume.start())
            continue
        if end - pos > MAX_ROW_BYTES or nested_deeper(record):
            yield Row(line, error=TOO_LONG if end - pos > MAX_ROW_BYTES else TOO_DEEP, file=name)
        else:
            yield Row(line, record, file=name)
        pos = _skip_space(text, end)
        if pos < len(text) and text[pos] == ",":
            pos = _skip_space(text, pos + 1)
        elif pos < len(text) and text[pos] != "]":
            line += text.count("\n", counted, pos)
            counted = pos
            yield Row(line, error="invalid JSON: expected ',' or ']' after a row", file=name)
            return


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _csv(path: Path, name: str) -> Iterator[Row]:
    with path.open(newline="", encoding="utf-8-sig", errors="strict") as handle:
        reader = csv.DictReader(handle)
        number = 1
        try:
            for number, row in enumerate(reader, 2):
                if None in row:
                    yield Row(number, error=f"{len(reader.fieldnames or []) + len(row[None])} fields where the "
                                               f"header has {len(reader.fieldnames or [])}", file=name)
                else:
                    yield Row(number, row, file=name)
        except (csv.Error, UnicodeDecodeError) as exc:
            yield Row(number + 1, error=f"cannot read CSV: {exc}", file=name)


def csv_header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return next(csv.reader(handle), [])


def _parquet(path: Path, name: str) -> Iterator[Row]:
    import pyarrow.parquet as pq  # only when a Parquet file is read: pyarrow costs ~0.2 s to import

    try:
        parquet = pq.ParquetFile(path)
        number = 1
        for batch in parquet.iter_batches(batch_size=4096):
            for record in batch.to_pylist():
                number += 1
                yield Row(number, record, file=name)
    except (OSError, ValueError) as exc:  # pyarrow.ArrowInvalid is a ValueError
        yield Row(1, error=f"cannot read Parquet: {exc}", file=name)
