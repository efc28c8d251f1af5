"""The four file kinds: every row with its line number, bad rows reported without stopping the file."""

from __future__ import annotations

import csv
import json

from ftspec.data.readers import file_kind, read_rows


def _read(path):
    return [(row.line, row.record, row.error) for row in read_rows(path, name=path.name)]


def test_jsonl_lines_blank_lines_and_bad_lines(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}\n\n  {"b": 2}  \n{"c": 3} extra\n{"d":\n\xff\xfe\n{"e": 5}')
    rows = _read(path)
    assert [(line, record) for line, record, error in rows if error is None] == [(1, {"a": 1}), (3, {"b": 2}),
                                                                               (7, {"e": 5})]
    errors = {line: error for line, _, error in rows if error}
    assert sorted(errors) == [4, 5, 6]
    assert "Extra data" in errors[4] and "Expecting value" in errors[5] and "not UTF-8" in errors[6]


def test_jsonl_fast_path_gives_the_same_rows(tmp_path, monkeypatch):
    """Big files go through orjson when it is installed; a line it refuses (NaN) still parses as json would."""
    import ftspec.data.readers as readers

    path = tmp_path / "d.jsonl"
    path.write_text('{"a": NaN}\n{"b": [1, 2]}\n{"c": \n', encoding="utf-8")
    slow = _read(path)
    monkeypatch.setattr(readers, "FAST_JSON_BYTES", 0)
    fast = _read(path)
    assert [(line, json.dumps(record), error) for line, record, error in fast] == \
        [(line, json.dumps(record), error) for line, record, error in slow]
    assert slow[1][1] == {"b": [1, 2]} and slow[2][2]


def test_json_array_lines_and_recovery_after_a_broken_row(tmp_path):
    rows = [{"i": 1}, {"i": 2, "text": "two\nlines"}, {"i": 3}]
    text = json.dumps(rows, indent=2)
    expected = [number for number, line in enumerate(text.splitlines(), 1) if line == "  {"]
    path = tmp_path / "d.json"
    path.write_text(text, encoding="utf-8")
    assert file_kind(path) == "json"
    assert [(line, record) for line, record, _ in _read(path)] == list(zip(expected, rows, strict=True))
    broken = text.replace('"i": 2,', '"i": 2,,')
    path.write_text(broken, encoding="utf-8")
    read = _read(path)
    assert [line for line, _, error in read if error] == [expected[1]]
    assert [record for _, record, error in read if not error] == [rows[0], rows[2]]


def test_json_file_holding_jsonl_is_read_as_jsonl(tmp_path):
    path = tmp_path / "d.json"
    path.write_text('{"a": 1}\n{"a": 2}\n', encoding="utf-8")
    assert file_kind(path) == "jsonl"
    assert [record for _, record, _ in _read(path)] == [{"a": 1}, {"a": 2}]


def test_csv_rows_count_the_header_as_line_one(tmp_path):
    path = tmp_path / "d.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerows([["prompt", "completion"], ["p1", "c1"], ["p2", "c2", "extra"], ["p3", "multi\nline"]])
    rows = _read(path)
    assert [(line, record) for line, record, error in rows if not error] == [
        (2, {"prompt": "p1", "completion": "c1"}), (4, {"prompt": "p3", "completion": "multi\nline"})]
    assert [(line, error) for line, _, error in rows if error] == [(3, "3 fields where the header has 2")]


def test_parquet_rows_count_the_header_as_line_one(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"prompt": ["a", "b"], "completion": ["x", "y"]}), path)
    assert _read(path) == [(2, {"prompt": "a", "completion": "x"}, None), (3, {"prompt": "b", "completion": "y"},
                                                                          None)]
    path.write_bytes(b"not parquet")
    [(line, record, error)] = _read(path)
    assert line == 1 and record is None and error.startswith("cannot read Parquet")
