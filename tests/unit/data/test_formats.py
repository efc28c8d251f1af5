"""Chat, preference and prompt_completion rows; `data.fields`; severity overrides; gated-metric mismatches."""

from __future__ import annotations

import pytest

from tests.unit.data.helpers import finding, jsonl, lines, run_audit


def _chat(*turns):
    return {"messages": [{"role": role, "content": content} for role, content in turns]}


CHAT = [
    ("ok", _chat(("system", "Be brief."), ("user", "Hi"), ("assistant", "Hello"), ("user", "Bye"),
                 ("assistant", "Goodbye"))),
    ("unknown role `bot` in messages[1]", _chat(("user", "Hi"), ("bot", "Hello"))),
    ("no assistant turn", _chat(("system", "x"), ("user", "Hi"))),
    ("assistant after the start", _chat(("assistant", "Hello"), ("user", "Hi"), ("assistant", "Yes"))),
    ("system at messages[2]", _chat(("user", "Hi"), ("assistant", "Hello"), ("system", "late"),
                                    ("user", "x"), ("assistant", "y"))),
    ("user after user", _chat(("user", "Hi"), ("user", "Again"), ("assistant", "Hello"))),
    ("ends with a user turn", _chat(("user", "Hi"), ("assistant", "Hello"), ("user", "More?"))),
    ("messages[0] has a list `content`", {"messages": [{"role": "user", "content": ["a"]},
                                                       {"role": "assistant", "content": "b"}]}),
    ("non-empty list", {"messages": []}),
    ("ok", _chat(("user", "Use the tool"), ("assistant", "calling"), ("tool", "42"), ("assistant", "It is 42"))),
]


def test_chat_role_errors(project):
    spec = project("  format: chat\n  train: chat.jsonl\n  quality: {min_examples: 1}\n",
                   {"chat.jsonl": jsonl([row for _, row in CHAT])})
    report = run_audit(spec)
    errors = finding(report, "schema_error")
    expected = [(i, what) for i, (what, _) in enumerate(CHAT, 1) if what != "ok"]
    assert [row.line for row in errors.rows] == [i for i, _ in expected]
    for row, (_, what) in zip(errors.rows, expected, strict=True):
        assert what in row.note
    assert report.clean_rows("train") == 2


def test_chat_empty_turn_and_placeholder_reply(project):
    rows = [_chat(("user", "Hi"), ("assistant", " ")), _chat(("user", "Hi there"), ("assistant", "N/A"))]
    report = run_audit(project("  format: chat\n  train: c.jsonl\n", {"c.jsonl": jsonl(rows)}))
    assert [row.note for row in finding(report, "empty_field").rows] == ["`messages[1].content` is empty"]
    assert lines(report, "placeholder") == [2]


def test_preference_conflicts_and_missing_fields(project):
    rows = [{"prompt": "2+2?", "chosen": "4", "rejected": "5"},
            {"prompt": "2+2?", "chosen": "5", "rejected": "4"},
            {"prompt": "3+3?", "chosen": "6", "rejected": "6"},
            {"prompt": "2+2?", "chosen": "4", "rejected": "22"},
            {"prompt": "1+1?", "chosen": "2"},
            {"prompt": [{"role": "user", "content": "Hi"}], "chosen": [{"role": "assistant", "content": "Hello"}],
             "rejected": [{"role": "assistant", "content": "Go away"}]}]
    report = run_audit(project("  format: preference\n  train: p.jsonl\n", {"p.jsonl": jsonl(rows)}))
    conflicts = finding(report, "conflicting_label")
    assert [(row.line, row.note) for row in conflicts.rows] == [
        (2, "p.jsonl:1 prefers the opposite answer"), (3, "chosen and rejected are the same answer")]
    assert lines(report, "schema_error") == [5]
    assert finding(report, "exact_duplicate").count == 0


def test_fields_map_columns_and_severity_overrides(project):
    rows = [{"question": "Capital of France?", "answer": "Paris"}, {"question": "Capital of Spain?", "answer": ""},
            {"question": "Capital of Italy?", "answer": "N/A"}, {"question": "Capital of France?", "answer": "Paris"}]
    spec = project("  format: prompt_completion\n  train: q.jsonl\n  fields: {prompt: question, completion: answer}\n"
                   "  quality: {severity: {placeholder: error, exact_duplicate: off, empty_field: warning}}\n",
                   {"q.jsonl": jsonl(rows)})
    report = run_audit(spec)
    checks = {f.check: f for f in report.findings}
    assert "exact_duplicate" not in checks
    assert checks["placeholder"].severity == "error" and lines(report, "placeholder") == [3]
    assert checks["empty_field"].severity == "warning" and lines(report, "empty_field") == [2]
    assert {f.check for f in report.errors} == {"placeholder", "size"}  # 4 rows < min_examples (50)
    assert "missing required field `prompt` (column `question`)" not in str(report)


def test_missing_mapped_column_names_the_column(project):
    report = run_audit(project("  format: prompt_completion\n  train: q.jsonl\n  fields: {prompt: question}\n",
                               {"q.jsonl": jsonl([{"prompt": "x", "completion": "y"}])}))
    assert finding(report, "schema_error").rows[0].note == "missing required field `prompt` (column `question`)"


@pytest.mark.parametrize(("metric", "bad"), [
    ("{name: json_valid, threshold: '>= 0.95'}", [2, 3]),
    ("{name: regex, pattern: '\\{.*\\}', threshold: '>= 0.9'}", [2, 3]),
    ("{name: contains, pattern: 'qty', threshold: '>= 0.9'}", [2]),
    ("{name: json_schema, schema: {type: object, required: [qty]}, threshold: '>= 0.9'}", [2, 3, 4]),
])
def test_format_mismatch_follows_the_gated_metric(project, metric, bad):
    rows = [{"prompt": "order 1", "completion": '{"qty": 1}'}, {"prompt": "order 2", "completion": "one"},
            {"prompt": "order 3", "completion": '{"qty": 3'}, {"prompt": "order 4", "completion": '{"n": "qty"}'}]
    spec = project("  format: prompt_completion\n  train: o.jsonl\n", {"o.jsonl": jsonl(rows)},
                   extra=f"metrics:\n  - {metric}\n")
    assert lines(run_audit(spec), "format_mismatch") == bad


def test_format_mismatch_on_a_slice_checks_only_that_set(project):
    train = [{"prompt": "a", "completion": "not json"}]
    adversarial = [{"prompt": "b", "completion": "not json either"}]
    spec = project("  format: prompt_completion\n  train: t.jsonl\n  adversarial: adv.jsonl\n",
                   {"t.jsonl": jsonl(train), "adv.jsonl": jsonl(adversarial)},
                   extra="metrics:\n  - {name: json_valid, slice: adversarial, threshold: '>= 0.9'}\n")
    rows = finding(run_audit(spec), "format_mismatch").rows
    assert [(row.file, row.line) for row in rows] == [("adv.jsonl", 1)]
