"""The audit's fast and bounded-memory paths find exactly what the plain ones find: the batch-at-a-time checks of
flat formats against the row-by-row checks, and the compact tiers of the duplicate memories (sorted arrays, digests
in a temporary file) against keeping every row in a dict and in rensa."""

from __future__ import annotations

import random

import pytest

import ftspec.data.audit as audit_module
import ftspec.data.firstrows as firstrows
import ftspec.data.neardup as neardup
from ftspec.data.audit import Auditor
from ftspec.data.firstrows import FirstRows
from ftspec.data.neardup import NearIndex, signatures
from ftspec.spec.load import load_spec
from tests.unit.data.helpers import jsonl

WORDS = ("order ship colour red blue green size small large return refund parcel invoice address street city "
         "price discount code coupon delivery tomorrow monday friday courier track number email phone").split()


def _sentence(rng: random.Random, size: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(size))


def _rows(count: int, seed: int = 0) -> list[dict]:
    """Distinct rows with every defect a well-formed row can have, planted across batches."""
    rng = random.Random(seed)
    rows = [{"instruction": f"Task {i}: {_sentence(rng, 12)}", "input": _sentence(rng, rng.choice((0, 0, 6))),
             "output": _sentence(rng, 25)} for i in range(count)]
    for i in range(0, count, 97):  # exact duplicates, differing in case and spacing
        j = rng.randrange(count)
        rows[j] = {key: "  " + value.upper().replace(" ", "   ") for key, value in rows[i].items()}
    for i in range(5, count, 89):  # conflicting labels
        rows[rng.randrange(count)] = {**rows[i], "output": _sentence(rng, 20)}
    for i in range(11, count, 53):  # near duplicates: one word changed
        words = rows[i]["output"].split(" ")
        words[3] = "parcel" if words[3] != "parcel" else "refund"
        rows[min(count - 1, i + rng.randrange(1, 3000))] = {**rows[i], "output": " ".join(words)}
    odd = [{"input": "<Picture Attached>"}, {"input": "https://example.com/a"}, {"output": "N/A"},
           {"input": "<noinput>"}, {"output": "..."}, {"input": "   www.example.org  "},
           {"output": "Done.\n2. Instruction: list two trees.\n2. Output: oak"}, {"input": "See the attached file."},
           {"instruction": "ÉMILE ZOLA A ÉCRIT QUOI ?", "output": "Germinal"},
           {"instruction": "Émile Zola a écrit quoi ?", "output": "germinal"},
           {"instruction": "Say\u00a0hi", "output": "\u2003hi\u2003"}]
    for i, change in zip(range(17, count, count // len(odd)), odd, strict=False):
        rows[i] = {**rows[i], **change}
    return rows


def _findings(report) -> list:
    return [(f.check, f.count, [(r.line, r.note) for r in f.rows]) for f in report.findings]


def _audit(spec, every_row: bool = False):
    flagged, by_columns = [], []
    auditor = Auditor(load_spec(spec), lambda row: flagged.append((row.line, row.flags)) if row.flags else None)
    if every_row:
        auditor.extract_columns = None
    else:
        check_columns = auditor._check_columns
        auditor._check_columns = lambda batch, columns: by_columns.append(check_columns(batch, columns)) or \
            by_columns[-1]
    report = auditor.run()
    return _findings(report), flagged, by_columns


@pytest.mark.parametrize("severity", ["{}", "{near_duplicate: off, leakage: off, too_long: off}"])
def test_batch_checks_find_what_the_row_checks_find(project, severity):
    rows = _rows(3000)
    spec = project(f"  format: instruction\n  train: train.jsonl\n  quality: {{severity: {severity}}}\n",
                   {"train.jsonl": jsonl(rows)})
    fast, plain = _audit(spec), _audit(spec, every_row=True)
    assert fast[:2] == plain[:2] and all(fast[2])
    counts = {check: count for check, count, _ in fast[0]}
    assert counts["exact_duplicate"] and counts["conflicting_label"] and counts["placeholder"] >= 9


def test_a_nul_in_a_text_sends_its_batch_row_by_row(project):
    rows = _rows(1500)
    rows[20]["output"] = "a\x00b"
    rows[30] = dict(rows[10])
    spec = project("  format: prompt_completion\n  train: train.jsonl\n  fields: {prompt: instruction, "
                   "completion: output}\n", {"train.jsonl": jsonl(rows)})
    fast, plain = _audit(spec), _audit(spec, every_row=True)
    assert fast[:2] == plain[:2] and fast[2] == [False, True]


def test_compact_tiers_find_what_the_dict_and_rensa_find(project, monkeypatch):
    """Tiers of 300 rows: the exact memory and both near-duplicate indexes (rows, and prompts for leakage with a
    holdout) move to sorted arrays several times, and the digests to a file."""
    rows = _rows(4000, seed=1)
    spec = project("  format: instruction\n  train: train.jsonl\n  holdout: 0.2\n", {"train.jsonl": jsonl(rows)})
    whole = _audit(spec)[:2]
    monkeypatch.setattr(firstrows, "RECENT", 300)
    monkeypatch.setattr(audit_module, "SMALL_FIRST_ROWS", 300)
    monkeypatch.setattr(neardup, "RECENT", 300)
    tiered = _audit(spec)[:2]
    assert tiered == whole
    counts = {check: count for check, count, _ in whole[0]}
    assert counts["near_duplicate"] and counts["exact_duplicate"] and counts["leakage"]


def test_near_index_tiers_and_spilled_digests_give_the_same_pairs():
    rng = random.Random(3)
    texts = [[w.encode() for w in _sentence(rng, 40).split()] for _ in range(2000)]
    for i in range(0, 2000, 7):  # near copies, up to a few batches later
        j = min(1999, i + rng.randrange(1, 900))
        texts[j] = [*texts[i][:-1], b"extra"]
    small, whole = NearIndex(0.8, recent=128), NearIndex(0.8, recent=10**9)
    for start in range(0, 2000, 256):
        tokens = texts[start:start + 256]
        batch = signatures(tokens)
        refs = list(range(start, start + len(batch)))
        assert small.search(batch, refs, tokens) == whole.search(batch, refs, tokens)
        small.settle()
        whole.settle()
    assert small._frozen is not None and small._digests.written > len(small) - 256
    assert whole._frozen is None and whole._digests.written == 0
    assert len(small) == len(whole) < 2000


def test_first_rows_tiers_answer_like_a_dict():
    rng = random.Random(5)
    keys = [rng.randrange(-(2**63), 2**63) for _ in range(3000)]
    keys += [rng.choice(keys) for _ in range(3000)]
    rng.shuffle(keys)
    tiered, plain = FirstRows(recent=200), {}
    for start in range(0, len(keys), 500):
        batch = keys[start:start + 500]
        tiered.prefetch(batch)
        for line, key in enumerate(batch, start):
            found = tiered.get(key)
            assert found == plain.get(key)
            if found is None:
                tiered.add(key, key ^ 1, line)
                plain[key] = (key ^ 1, line)
        tiered.settle()
    assert tiered.frozen is not None and len(tiered) == len(plain)
