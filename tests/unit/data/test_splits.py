"""The holdout split, leakage between splits, and the size check's error level."""

from __future__ import annotations

import zlib

from ftspec.data.split import is_holdout
from tests.unit.data.helpers import finding, jsonl, lines, run_audit


def _rows(n: int) -> list[dict]:
    return [{"prompt": f"Question {i}: what is {i} squared times seven plus {i * 3}?", "completion": str(i * i * 7)}
            for i in range(n)]


def test_holdout_is_the_documented_seeded_rule(project):
    rows = _rows(200)
    spec = project("  format: prompt_completion\n  train: d.jsonl\n  holdout: 0.2\n",
                   {"d.jsonl": jsonl(rows)}, extra="training: {seed: 7}\n")
    report = run_audit(spec)
    held = [i for i in range(len(rows)) if zlib.crc32(f"7:{i}".encode()) < 0.2 * 2**32]
    assert held == [i for i in range(len(rows)) if is_holdout(i, 7, 0.2)]
    assert report.stats["rows"] == {"train": len(rows) - len(held), "eval": len(held)}
    assert report.stats["files"]["d.jsonl"]["split"] == "train+holdout"
    assert run_audit(spec).stats["rows"] == report.stats["rows"]  # the same every time


def test_holdout_leak_is_flagged_on_the_later_row(project):
    rows = _rows(60)
    held = next(i for i in range(len(rows)) if is_holdout(i, 42, 0.3))
    kept = next(i for i in range(held + 1, len(rows)) if not is_holdout(i, 42, 0.3))
    rows[kept] = dict(rows[held], completion="another answer")  # train row after an eval row, same prompt
    spec = project("  format: prompt_completion\n  train: d.jsonl\n  holdout: 0.3\n", {"d.jsonl": jsonl(rows)})
    report = run_audit(spec)
    assert lines(report, "leakage") == [kept + 1]
    assert finding(report, "leakage").rows[0].note == f"prompt also in the eval set at d.jsonl:{held + 1}"


def test_leak_into_adversarial_and_regression_sets(project):
    train = _rows(10)
    spec = project("  format: prompt_completion\n  train: t.jsonl\n  adversarial: a.jsonl\n  regression: r.jsonl\n",
                   {"t.jsonl": jsonl(train), "a.jsonl": jsonl([train[3]]), "r.jsonl": jsonl([train[8]])})
    report = run_audit(spec)
    assert [(r.file, r.line) for r in finding(report, "leakage").rows] == [("t.jsonl", 4), ("t.jsonl", 9)]
    assert report.clean_rows("train") == 8 and report.clean_rows("adversarial") == 1


def test_too_few_rows_is_an_error_unless_overridden(project):
    spec = project("  format: prompt_completion\n  train: t.jsonl\n  quality: {min_examples: 20}\n",
                   {"t.jsonl": jsonl(_rows(10))})
    size = finding(run_audit(spec), "size")
    assert size.severity == "error" and size.rows[0].file.endswith("project.yaml")
    assert "train has 10 clean rows, fewer than data.quality.min_examples (20)" == size.rows[0].note
    spec = project("  format: prompt_completion\n  train: t.jsonl\n  quality: {min_examples: 20, severity: "
                   "{size: warning}}\n", {"t.jsonl": jsonl(_rows(10))})
    assert finding(run_audit(spec), "size").severity == "warning"


def test_lengths_are_skipped_for_hub_models(project):
    report = run_audit(project("  format: prompt_completion\n  train: t.jsonl\n", {"t.jsonl": jsonl(_rows(3))}))
    assert report.stats["token_lengths"] == {}
    assert "never downloads" in report.stats["tokenizers_skipped"]["m"]
    assert finding(report, "too_long").count == 0


def test_small_and_big_batches_give_the_same_signatures():
    from ftspec.data import neardup
    from ftspec.data.text import words

    texts = [words(f"row {i} says the tide comes in at {i % 12} o'clock near pier {i % 5}") for i in range(600)]
    big = neardup.signatures(texts)
    small = [s for start in range(0, 600, 100) for s in neardup.signatures(texts[start:start + 100])]
    assert len(big) == len(small) == 600
    assert [s.digest() for s in big] == [s.digest() for s in small]
