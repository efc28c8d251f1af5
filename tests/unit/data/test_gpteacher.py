"""The audit on real data: GPTeacher's toolformer set (a JSON array in the Alpaca format, 7.7k rows). Expected
counts and lines are worked out here independently, from the file itself."""

from __future__ import annotations

import json
import os
import re

import pytest

from ftspec.data.audit import Auditor
from ftspec.spec.load import load_spec
from tests.unit.data.helpers import GPTEACHER, finding

# CI always has ../shared beside the clone: there a missing file fails, never skips.
pytestmark = pytest.mark.skipif(not GPTEACHER.is_file() and not os.environ.get("CI"),
                                reason="needs ../shared/data/gpteacher beside the checkout")


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    spec = tmp_path_factory.mktemp("gpteacher") / "project.yaml"
    spec.write_text(f"ftspec: 1\nname: gpteacher\ndata:\n  format: instruction\n  train: {GPTEACHER}\n"
                    "models:\n  - {name: m, hub: org/model, params: 1B}\n", encoding="utf-8")
    flagged = []
    auditor = Auditor(load_spec(spec), lambda row: flagged.append(row) if row.flags else None)
    return auditor, auditor.run(), flagged


@pytest.fixture(scope="module")
def source():
    text = GPTEACHER.read_text(encoding="utf-8")
    rows = json.loads(text)
    starts = [number for number, line in enumerate(text.splitlines(), 1) if line == "  {"]
    assert len(starts) == len(rows)
    return rows, starts


def _key(text: str) -> str:
    return re.sub(r"\s+", "", text.lower())


def _prompt(row: dict) -> str:
    return f"{row['instruction']}\n{row['input']}" if row["input"] else row["instruction"]


def test_every_row_read_and_well_formed(audited, source):
    _, report, _ = audited
    rows, _ = source
    assert report.stats["rows"] == {"train": len(rows)}
    for check in ("parse_error", "schema_error", "empty_field", "leakage", "format_mismatch", "too_long"):
        assert finding(report, check).count == 0


def test_exact_duplicates_and_conflicts_match_a_plain_recount(audited, source):
    _, report, _ = audited
    rows, starts = source
    first_row, first_prompt, duplicates, conflicts = {}, {}, [], []
    for row, line in zip(rows, starts, strict=True):
        whole, prompt = (_key(_prompt(row)), _key(row["output"])), _key(_prompt(row))
        if whole in first_row:
            duplicates.append((line, first_row[whole]))
        first_row.setdefault(whole, line)
        if prompt in first_prompt and first_prompt[prompt][1] != whole[1]:
            conflicts.append((line, first_prompt[prompt][0]))
        first_prompt.setdefault(prompt, (line, whole[1]))
    assert duplicates and conflicts
    dup, conflict = finding(report, "exact_duplicate"), finding(report, "conflicting_label")
    assert dup.count == len(duplicates) and conflict.count == len(conflicts)
    name = str(GPTEACHER)
    assert [(r.line, r.note) for r in dup.rows] == [(line, f"same as {name}:{first}") for line, first in duplicates]
    assert [(r.line, r.note) for r in conflict.rows] == [
        (line, f"same prompt as {name}:{first} with a different target") for line, first in conflicts[:20]]


def test_bare_inputs_the_task_asks_for_are_not_placeholders(audited, source):
    """The set's only bare inputs (a lone `/` for a `du -sh /` task, a lone URL for a `whois`) are what the task
    works on: the output uses each. Neither is a placeholder."""
    _, report, _ = audited
    rows, _ = source

    def bare(row: dict) -> bool:
        given = row["input"].strip()
        url_only = re.fullmatch(r"(https?://|www\.)\S+", given) and given not in row["output"]
        return bool(given) and (not any(c.isalnum() for c in given) or bool(url_only))

    inputs = [(row["input"].strip(), row["output"]) for row in rows if bare(row)]
    assert [given for given, _ in inputs] == ["/", "https://www.google.com"]
    assert all(re.sub(r"^https?://", "", given) in output for given, output in inputs)
    assert finding(report, "placeholder").count == 0


def test_no_mojibake_in_the_set(audited, source):
    """ftfy itself finds nothing to repair in any field; neither does the audit (no false alarms on the set's
    non-ASCII text)."""
    from ftfy import fix_encoding

    _, report, _ = audited
    rows, _ = source
    assert any(not value.isascii() for row in rows for value in row.values())
    assert not [row for row in rows if any(fix_encoding(value) != value for value in row.values())]
    assert finding(report, "encoding").count == 0


def _near_pairs(flagged) -> list[tuple[int, int]]:
    return [(row.line, int(re.search(r":(\d+) \(similarity", message).group(1)))
            for row in flagged for check, message in row.flags if check == "near_duplicate"]


def test_near_duplicate_pairs_reach_the_threshold(audited, source):
    """Every pair reported is at or above the threshold by exact Jaccard on the words the audit compares (MinHash
    only proposes candidates), and the message gives that exact similarity."""
    auditor, report, flagged = audited
    rows, starts = source
    by_line = dict(zip(starts, rows, strict=True))
    near = _near_pairs(flagged)
    assert len(near) == finding(report, "near_duplicate").count > 0
    messages = {row.line: message for row in flagged for check, message in row.flags if check == "near_duplicate"}
    for line, earlier in near:
        assert earlier < line
        a, b = (set(auditor.boilerplate.words(_prompt(by_line[n]), by_line[n]["output"])) for n in (line, earlier))
        similarity = len(a & b) / len(a | b)
        assert similarity >= 0.9
        assert f"(similarity {similarity:.2f})" in messages[line]
    duplicates = {r.line for r in finding(report, "exact_duplicate").rows}
    assert not duplicates & {line for line, _ in near}


def test_every_row_near_an_earlier_one_is_flagged(audited, source):
    """Recall against exact all-pairs Jaccard (sparse products, a block of rows at a time): every row with an
    earlier row at or above the threshold is flagged, whether that earlier row was flagged itself or not."""
    import numpy as np
    from scipy import sparse

    auditor, report, flagged = audited
    rows, starts = source
    duplicates = {r.line for r in finding(report, "exact_duplicate").rows}
    kept = [(line, row) for line, row in zip(starts, rows, strict=True) if line not in duplicates]
    vocab: dict = {}
    indices, pointers = [], [0]
    for _, row in kept:
        words = set(auditor.boilerplate.words(_prompt(row), row["output"]))
        indices += [vocab.setdefault(word, len(vocab)) for word in words]
        pointers.append(len(indices))
    matrix = sparse.csr_matrix((np.ones(len(indices)), indices, pointers), shape=(len(kept), len(vocab)))
    sizes = np.diff(matrix.indptr)
    expected = set()
    for start in range(0, len(kept), 1024):
        shared = (matrix[start:start + 1024] @ matrix.T).toarray()
        similarity = shared / (sizes[start:start + 1024, None] + sizes[None, :] - shared)
        for offset, row in enumerate(similarity):
            if (row[:start + offset] >= 0.9).any():
                expected.add(kept[start + offset][0])
    assert len(expected) > 300
    assert {line for line, _ in _near_pairs(flagged)} == expected


def test_tool_preamble_is_boilerplate_not_content(audited):
    auditor, _, _ = audited
    assert "toolformer: enabled" in auditor.boilerplate.lines
    assert "wikipedia(query)" in auditor.boilerplate.lines
