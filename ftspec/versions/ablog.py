"""Reading an A/B log in one streaming pass: JSONL or CSV rows of (variant, outcome[, user][, timestamp]).

Outcomes are kept per variant in compact arrays (8 bytes a row, users as 8-byte hashes), never as Python objects,
so a million rows cost about 16 MB. A bad row is an error located at file:line; after a few of them reading stops.
"""

from __future__ import annotations

import csv
import json
import math
from array import array
from dataclasses import dataclass, field
from pathlib import Path

from ftspec.errors import UsageError

MAX_LINE = 1 << 20  # bytes: a longer line is an error, not a reason to hold a gigabyte
MAX_ERRORS = 10  # located errors reported before reading stops
MAX_VARIANTS = 50  # distinct variant names held before the log is judged not an A/B log
USER_FIELDS = ("user_id", "user", "session_id", "session")
_TRUE, _FALSE = {"true", "yes", "success"}, {"false", "no", "failure"}


@dataclass
class Arm:
    outcomes: array = field(default_factory=lambda: array("d"))
    users: array = field(default_factory=lambda: array("q"))


@dataclass
class ABLog:
    path: Path
    metric: str
    user_field: str | None
    variant_field: str = "variant"
    arms: dict[str, Arm] = field(default_factory=dict)
    rows: int = 0


def _outcome(value) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return 1.0
        if text in _FALSE:
            return 0.0
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _records(path: Path):
    """(line number, dict or an error text) for every non-blank row."""
    is_csv = path.suffix.lower() in (".csv", ".tsv")
    encoding = "utf-8-sig" if is_csv else "utf-8"  # a spreadsheet's CSV may start with a byte-order mark
    with open(path, encoding=encoding, errors="replace", newline="" if is_csv else None) as handle:
        if is_csv:
            csv.field_size_limit(MAX_LINE)
            reader = csv.DictReader(handle, delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
            try:
                for record in reader:
                    yield reader.line_num, record
            except csv.Error as exc:
                yield reader.line_num, f"not valid CSV: {exc}"
            return
        yield from _jsonl_records(handle)


def _loads():
    """orjson where installed (about 3x json's speed), else json; json has the last word on a line orjson refuses
    (NaN, huge integers)."""
    try:
        import orjson
    except ImportError:
        return json.loads

    def loads(line):
        try:
            return orjson.loads(line)
        except orjson.JSONDecodeError:
            return json.loads(line)
    return loads


def _jsonl_records(handle):
    loads = _loads()
    for number, line in enumerate(handle, start=1):
        if len(line) > MAX_LINE:
            yield number, f"line longer than {MAX_LINE} characters"
            continue
        try:
            record = loads(line)
        except ValueError:
            if line.strip():
                yield number, "not valid JSON"
            continue
        yield number, record if isinstance(record, dict) else "not a JSON object"


def read_log(path: Path, metric: str, variant_field: str = "variant", user_field: str | None = None) -> ABLog:
    if not path.is_file():
        raise UsageError(f"no A/B log at {path}", "pass a JSONL or CSV file with variant and outcome columns")
    log, errors = ABLog(path, metric, user_field, variant_field), []
    for number, record in _records(path):
        problem = _add(log, record) if isinstance(record, dict) else record
        if problem:
            errors.append(f"{path}:{number}: {problem}")
            if len(errors) >= MAX_ERRORS:
                break
    if errors:
        raise UsageError(f"{len(errors)}{'+' if len(errors) >= MAX_ERRORS else ''} bad rows in the A/B log:\n  "
                         + "\n  ".join(errors), f"each row needs `{variant_field}` and a numeric or true/false "
                         f"`{metric}`; choose the outcome column with --metric")
    return log


def _add(log: ABLog, record: dict) -> str | None:
    variant_field = log.variant_field
    if log.user_field is None:  # the first row decides which column, if any, names the user
        log.user_field = next((f for f in USER_FIELDS if f in record), "")
    variant = record.get(variant_field)
    if variant is None or variant == "":
        return f"no `{variant_field}`"
    if log.metric not in record:
        return f"no `{log.metric}` (the outcome; choose it with --metric)"
    value = _outcome(record[log.metric])
    if value is None:
        return f"`{log.metric}` is {record[log.metric]!r}, not a number or true/false"
    name = str(variant)
    arm = log.arms.get(name)
    if arm is None:
        if len(log.arms) >= MAX_VARIANTS:
            return f"more than {MAX_VARIANTS} distinct variants: is `{variant_field}` the variant column?"
        arm = log.arms[name] = Arm()
    arm.outcomes.append(value)
    if log.user_field:
        user = record.get(log.user_field)
        arm.users.append(hash(str(user)) if user not in (None, "") else hash(("row", log.rows)))
    log.rows += 1
    return None
