"""Read production logs (JSONL, CSV or Parquet) into LogRows, field by field as `monitoring.fields` maps them.

A row that cannot be used (not an object, no prompt, no timestamp, a rating that is no number) comes back as a
BadRow with its file and line: the monitor counts and lists them, and never drops one silently.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ftspec.data.readers import read_batches

EPOCH_MS = 1e11  # a number above this is milliseconds since the epoch (1e11 s is the year 5138)


@dataclass(slots=True)
class LogRow:
    file: str
    line: int
    prompt: str
    output: str
    day: date  # the request's UTC day: the window it falls in
    feedback: float | None = None  # mapped onto 0-1 by monitoring.feedback_scale
    reference: str | None = None
    latency_ms: float | None = None


@dataclass(slots=True)
class BadRow:
    file: str
    line: int
    message: str

    def to_json(self) -> dict:
        return {"file": self.file, "line": self.line, "message": self.message}


class RowProblem(ValueError):
    pass


class LogReader:
    """Turns records into LogRows for one field mapping (spec.monitoring.fields) and rating scale."""

    def __init__(self, fields, feedback_scale: tuple[float, float]):
        self.fields = fields
        self.low, self.high = feedback_scale
        self._days: dict[str, date] = {}

    def batches(self, path: Path, name: str) -> Iterator[tuple[list[LogRow], list[BadRow]]]:
        for batch in read_batches(path, name=name):
            good, bad = [], []
            if batch.has_rows():
                items = [(row.line, row.record, row.error) for row in batch.rows()]
            else:
                items = [(line, record, None) for line, record in zip(batch.lines, batch.records, strict=True)]
            for line, record, error in items:
                if error is not None:
                    bad.append(BadRow(name, line, error))
                    continue
                try:
                    good.append(self.row(record, name, line))
                except RowProblem as exc:
                    bad.append(BadRow(name, line, str(exc)))
            yield good, bad

    def row(self, record: object, name: str, line: int) -> LogRow:
        if type(record) is not dict:
            raise RowProblem(f"the row is a {type(record).__name__}, not an object")
        f = self.fields
        prompt = record.get(f.prompt)
        if type(prompt) is list:  # a chat request: its messages, as the chat format's prompt is made
            prompt = _chat_prompt(prompt)
            if prompt is None:
                raise RowProblem(f"`{f.prompt}` is a list but not of chat messages ({{role, content}}, text content)")
        if type(prompt) is not str or not prompt.strip():
            raise RowProblem(_missing("prompt", f.prompt, prompt))
        output = record.get(f.output)
        if output is None:
            raise RowProblem(_missing("output", f.output, output))
        if type(output) is not str:  # a structured answer logged as an object: judge its JSON text
            output = json.dumps(output, ensure_ascii=False)
        day = self.day(record.get(f.timestamp), f.timestamp)
        row = LogRow(name, line, prompt, output, day)
        if f.feedback is not None:
            row.feedback = self.feedback(record.get(f.feedback), f.feedback)
        if f.reference is not None:
            reference = record.get(f.reference)
            row.reference = reference if type(reference) is str and reference else None
        if f.latency_ms is not None:
            row.latency_ms = _number(record.get(f.latency_ms), f.latency_ms, allow_missing=True)
        return row

    def day(self, value: object, column: str) -> date:
        if isinstance(value, str):
            cached = self._days.get(value)
            if cached is not None:
                return cached
            try:
                number = float(value)
            except ValueError:
                return self._parse_day(value, column)
            return _epoch_day(number, column)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return _epoch_day(float(value), column)
        if isinstance(value, datetime):  # Parquet timestamps
            return _utc_day(value)
        if isinstance(value, date):
            return value
        raise RowProblem(_missing("timestamp", column, value))

    def _parse_day(self, text: str, column: str) -> date:
        try:
            day = _utc_day(datetime.fromisoformat(text.strip()))
        except ValueError:
            raise RowProblem(f"`{column}` is {text[:40]!r}, not an ISO 8601 time or seconds since the epoch") \
                from None
        if len(text) <= 10:  # a bare date: the same for every row of that day
            self._days[text] = day
        return day

    def feedback(self, value: object, column: str) -> float | None:
        if value is None or value == "":
            return None  # most requests get no rating
        if isinstance(value, bool):
            return float(value)
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "up", "down"):
            return float(value.strip().lower() in ("true", "up"))
        number = _number(value, column)
        if not self.low <= number <= self.high:
            raise RowProblem(f"`{column}` is {number:g}, outside monitoring.feedback_scale "
                             f"[{self.low:g}, {self.high:g}]")
        return (number - self.low) / (self.high - self.low) if self.high > self.low else 1.0


def _chat_prompt(messages: list) -> str | None:
    """`role: content` lines, as ftspec.data.formats makes a chat row's prompt; None unless every message has both."""
    try:
        lines = [f"{m['role']}: {m['content']}" for m in messages if type(m["content"]) is str]
    except (TypeError, KeyError):
        return None
    return "\n".join(lines) if len(lines) == len(messages) else None


def _missing(name: str, column: str, value: object) -> str:
    where = f" (column `{column}`)" if column != name else ""
    if value is None:
        return f"missing `{name}`{where}"
    return f"`{name}`{where} is {type(value).__name__} {str(value)[:40]!r}, not usable"


def _number(value: object, column: str, allow_missing: bool = False) -> float | None:
    if value is None or value == "":
        if allow_missing:
            return None
        raise RowProblem(f"missing `{column}`")
    if isinstance(value, bool):
        raise RowProblem(f"`{column}` is a boolean, not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RowProblem(f"`{column}` is {str(value)[:40]!r}, not a number") from None
    if not math.isfinite(number):
        raise RowProblem(f"`{column}` is {number}, not a finite number")
    return number


def _epoch_day(seconds: float, column: str) -> date:
    if not math.isfinite(seconds) or seconds < 0:
        raise RowProblem(f"`{column}` is {seconds}, not a time")
    if seconds > EPOCH_MS:
        seconds /= 1000
    try:
        return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)).date()
    except OverflowError:
        raise RowProblem(f"`{column}` is {seconds:g}, beyond any date") from None


def _utc_day(moment: datetime) -> date:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()
