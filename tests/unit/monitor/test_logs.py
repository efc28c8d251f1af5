"""Log rows: the field mapping, timestamps, ratings and latency; every unusable row comes back with its line."""

from __future__ import annotations

import csv
import json
from datetime import date

import pytest

from ftspec.monitor.logs import LogReader
from ftspec.spec.models import MonitorFields


def read(path, fields=None, scale=(0.0, 1.0)):
    reader = LogReader(fields or MonitorFields(feedback="rating"), scale)
    good, bad = [], []
    for rows, problems in reader.batches(path, path.name):
        good += rows
        bad += problems
    return good, bad


def test_jsonl_rows_map_fields_and_report_bad_lines(tmp_path):
    lines = [
        {"timestamp": "2026-01-05T23:30:00-02:00", "prompt": "hi", "output": "{}", "rating": True},  # next UTC day
        {"timestamp": 1767657600, "prompt": "hi", "output": {"a": 1}, "latency_ms": 12.5},  # 2026-01-06, seconds
        {"timestamp": 1767657600000, "prompt": "hi", "output": "x", "rating": 0.25},  # milliseconds
        {"timestamp": "2026-01-06", "output": "x"},
        {"timestamp": "soon", "prompt": "hi", "output": "x"},
        {"timestamp": "2026-01-06", "prompt": "hi", "output": "x", "rating": 3},
    ]
    path = tmp_path / "logs.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n[1]\n{broken\n", encoding="utf-8")
    good, bad = read(path)
    assert [row.day for row in good] == [date(2026, 1, 6)] * 3
    assert good[0].feedback == 1.0 and good[2].feedback == 0.25 and good[1].feedback is None
    assert good[1].output == '{"a": 1}' and good[1].latency_ms == 12.5
    assert [(b.file, b.line) for b in bad] == [("logs.jsonl", n) for n in (4, 5, 6, 7, 8)]
    messages = [b.message for b in bad]
    assert "missing `prompt`" in messages[0]
    assert "'soon', not an ISO 8601 time" in messages[1]
    assert "outside monitoring.feedback_scale [0, 1]" in messages[2]
    assert "not an object" in messages[3] and "invalid JSON" in messages[4]


def test_csv_rows_with_renamed_columns_and_a_five_star_scale(tmp_path):
    path = tmp_path / "logs.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["when", "question", "answer", "stars"])
        writer.writerow(["2026-02-01T10:00:00Z", "hello", "{}", "5"])
        writer.writerow(["2026-02-01T11:00:00Z", "hello", "{}", "seven"])
        writer.writerow(["2026-02-01T12:00:00Z", "hello", "{}", ""])
    fields = MonitorFields(prompt="question", output="answer", timestamp="when", feedback="stars")
    good, bad = read(path, fields, (1.0, 5.0))
    assert [row.feedback for row in good] == [1.0, None]
    assert [(b.line, b.message) for b in bad] == [(3, "`stars` is 'seven', not a number")]


def test_parquet_rows(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "logs.parquet"
    pq.write_table(pa.table({"timestamp": ["2026-03-02T08:00:00Z", "bad"], "prompt": ["a", "b"],
                             "output": ["{}", "{}"]}), path)
    good, bad = read(path, MonitorFields())
    assert [row.day for row in good] == [date(2026, 3, 2)]
    assert [b.line for b in bad] == [3]  # the header counts as line 1


def test_a_chat_request_is_read_as_the_chat_format_prompt(tmp_path):
    path = tmp_path / "chat.jsonl"
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Two red mugs"}]
    lines = [{"timestamp": "2026-01-05T00:00:00Z", "prompt": messages, "output": "{}"},
             {"timestamp": "2026-01-05T00:00:00Z", "prompt": [{"role": "user"}], "output": "{}"}]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    good, bad = read(path, MonitorFields())
    assert [row.prompt for row in good] == ["system: Be brief.\nuser: Two red mugs"]
    assert [b.line for b in bad] == [2] and "not of chat messages" in bad[0].message
