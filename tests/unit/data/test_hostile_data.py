"""Data files are untrusted input: a huge line or a deeply nested row is an error at its line (parse_error), read
at a bounded cost, and the rows around it are audited as usual. Before, a deep row crashed the audit
(RecursionError) and a huge line was held whole."""

from __future__ import annotations

import json

import pytest

import ftspec.data.readers as readers
from ftspec.data.readers import MAX_DEPTH, MAX_ROW_BYTES, TOO_DEEP, TOO_LONG, read_rows
from tests.invoke import invoke
from tests.unit.data.helpers import finding, run_audit


def _row(i: int) -> str:
    return json.dumps({"instruction": f"Name fact {i} about tides.", "input": "", "output": f"Fact {i}."})


def _nested(depth: int) -> str:
    return '{"instruction": "deep", "input": "", "output": "x", "meta": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


@pytest.mark.parametrize("fast", [False, True], ids=["json", "orjson"])
def test_deep_rows_are_parse_errors_at_their_line(project, monkeypatch, fast):
    if fast:  # the parser of big files
        monkeypatch.setattr(readers, "FAST_JSON_BYTES", 0)
    lines = [_row(1), _nested(5_000), _row(2), _nested(MAX_DEPTH + 1), _nested(MAX_DEPTH), _row(3)]
    spec = project("  format: instruction\n  train: train.jsonl\n", {"train.jsonl": "\n".join(lines) + "\n"})
    report = run_audit(spec)
    errors = finding(report, "parse_error")
    assert [(row.line, row.note) for row in errors.rows][:1] == [(2, TOO_DEEP)]
    assert 4 in [row.line for row in errors.rows] or fast  # orjson takes rows up to its own limit (1,024)
    assert 5 not in [row.line for row in errors.rows]  # at the limit: a row like any other
    assert report.stats["rows"] == {"train": 6}


def test_deep_row_through_the_cli_and_its_flagged_copy(project, tmp_path):
    spec = project("  format: instruction\n  train: train.jsonl\n",
                   {"train.jsonl": "\n".join([_row(1), _nested(3_000), _row(2)]) + "\n"})
    out = tmp_path / "flagged.jsonl"
    result = invoke(["data", "audit", str(spec), "--out", str(out)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    entries = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(e["file"], e["line"], e["message"]) for e in entries if e["check"] == "parse_error"] == [
        ("train.jsonl", 2, TOO_DEEP)]


def test_a_line_past_the_size_limit_is_skipped_not_held(project, tmp_path):
    huge = '{"instruction": "' + "x" * (MAX_ROW_BYTES + 10) + '", "input": "", "output": "y"}'
    spec = project("  format: instruction\n  train: train.jsonl\n",
                   {"train.jsonl": "\n".join([_row(1), huge, _row(2), _row(3)]) + "\n"})
    rows = list(read_rows(tmp_path / "train.jsonl", name="train.jsonl"))
    assert [(row.line, row.error) for row in rows] == [(1, None), (2, TOO_LONG), (3, None), (4, None)]
    assert len(rows[1].raw) <= 200 and rows[2].record["instruction"] == "Name fact 2 about tides."
    report = run_audit(spec)
    assert [(row.line, row.note) for row in finding(report, "parse_error").rows] == [(2, TOO_LONG)]


def test_json_array_rows_are_bounded_too(project):
    text = "[\n" + ",\n".join([_row(1), _nested(5_000), _row(2), _nested(MAX_DEPTH + 1)]) + "\n]\n"
    spec = project("  format: instruction\n  train: train.json\n", {"train.json": text})
    report = run_audit(spec)
    assert [(row.line, row.note) for row in finding(report, "parse_error").rows] == [(3, TOO_DEEP), (5, TOO_DEEP)]
    assert report.stats["rows"] == {"train": 4}


def test_a_json_array_past_its_size_limit_is_not_read_whole(project, monkeypatch):
    text = "[\n" + ",\n".join(_row(i) for i in range(50)) + "\n]\n"
    spec = project("  format: instruction\n  train: train.json\n", {"train.json": text})
    monkeypatch.setattr(readers, "MAX_ARRAY_BYTES", len(text) - 1)  # the limit is 1 GiB; this file is a few KB
    errors = finding(run_audit(spec), "parse_error")
    assert [row.line for row in errors.rows] == [1] and errors.count == 1
    assert "is not read whole: write it as JSONL, one row a line" in errors.rows[0].note
