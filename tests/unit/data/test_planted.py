"""Every kind of defect planted in generated data: each check finds exactly the rows planted for it, by line."""

from __future__ import annotations

import math

import pytest

from tests.unit.data.helpers import finding, jsonl, lines, run_audit

LONG = ("The committee reviewed the quarterly budget and decided to move funds from marketing toward research, "
        "citing strong results from the prototype team, rising demand in northern regions, and a need to hire "
        "two engineers before the spring release of the new sensor product line for industrial customers")


def _ok(i: int) -> dict:
    return {"instruction": f"Give fact number {i} about the moon.", "input": "",
            "output": f"Fact {i}: the moon is about {384000 + i} km from the earth."}


# (what is planted, the row or raw line); the list position gives the line number
PLANTED = [
    ("ok", _ok(1)),
    ("ok", {"instruction": "Name a primary colour.", "input": "", "output": "Red"}),
    ("parse_error", '{"instruction": "broken", "output": '),
    ("blank", ""),
    ("schema_error", [1, 2]),
    ("schema_error", {"instruction": 5, "input": "", "output": "five"}),
    ("schema_error", {"input": "", "output": "no instruction"}),
    ("empty_field", {"instruction": "Say hi.", "input": "", "output": "   "}),
    ("placeholder", {"instruction": "Describe the picture.", "input": "<Picture Attached>", "output": "A cat."}),
    ("placeholder", {"instruction": "Summarize the page.", "input": "https://example.com/a", "output": "News."}),
    ("placeholder", {"instruction": "Give the date of the treaty.", "input": "", "output": "N/A"}),
    ("placeholder", {"instruction": "Translate to French.", "input": "<noinput>", "output": "Bonjour"}),
    ("placeholder", {"instruction": "Say something.", "input": "", "output": "..."}),
    ("placeholder", {"instruction": "List two fruits.", "input": "",
                     "output": "Apple and pear.\n\n2. Instruction: List two trees.\n2. Output: Oak and elm."}),
    ("exact_duplicate", {"instruction": "  GIVE fact number 1   about the MOON.", "input": "",
                         "output": "fact 1:  the moon is about 384001 km from the earth."}),
    ("conflicting_label", {"instruction": "Name a primary colour.", "input": "", "output": "Blue"}),
    ("ok", {"instruction": "Summarize the decision.", "input": "", "output": LONG}),
    ("near_duplicate", {"instruction": "Summarize the decision briefly.", "input": "",
                        "output": LONG.replace(" quarterly", "")}),
    ("too_long", {"instruction": "Repeat the word.", "input": "", "output": " ".join(["word"] * 300)}),
    ("leakage", {"instruction": "What is the capital of Peru?", "input": "", "output": "Lima"}),
    ("leakage", {"instruction": "Explain how tides work in detail, step by step, for a curious child who "
                                "loves the sea and boats", "input": "", "output": "The moon pulls the water."}),
    ("encoding", {"instruction": "What is xÂ² when x is 3?", "input": "", "output": "It is 9."}),
    ("encoding", {"instruction": "How warm was it at noon?", "input": "", "output": "It was 50Â°F at noon."}),
    # short inputs that the instruction asks for, and accented text: none is flagged
    ("fine", {"instruction": "Find out the disk usage of the root directory.", "input": "/",
              "output": "The disk usage of the root directory (/) is: shell('du -sh /')."}),
    ("fine", {"instruction": "Find the domain registration information for a given URL.",
              "input": "https://www.google.com", "output": "It is shell('whois www.google.com')."}),
    ("fine", {"instruction": "Is this link secure?", "input": "https://bank.example", "output": "Yes, it uses TLS."}),
    ("fine", {"instruction": "Où est le café ?", "input": "", "output": "À côté de la gare, dit la naïve Zoë."}),
]
EVAL = [
    {"instruction": "What is the capital of Peru?", "input": "", "output": "Lima."},
    {"instruction": "Explain how tides work in detail, step by step, for a curious child who loves the sea and "
                    "boats.", "input": "", "output": "Gravity."},
    {"instruction": "Name the largest ocean.", "input": "", "output": "The Pacific"},
]


def planted_lines(kind: str) -> list[int]:
    return [number for number, (what, _) in enumerate(PLANTED, 1) if what == kind]


@pytest.fixture
def tokenizer_dir(tmp_path):
    """A word-level tokenizer trained on the fly, saved where a model's `path` points."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.train_from_iterator([LONG, "word the moon fact"], trainers.WordLevelTrainer(special_tokens=["[UNK]"]))
    folder = tmp_path / "models" / "tiny"
    folder.mkdir(parents=True)
    tokenizer.save(str(folder / "tokenizer.json"))
    return tokenizer


@pytest.fixture
def report(project, tokenizer_dir):
    spec = project("  format: instruction\n  train: train.jsonl\n  eval: eval.jsonl\n"
                   "  quality: {min_examples: 5, max_tokens: 64}\n",
                   {"train.jsonl": jsonl([row for _, row in PLANTED]), "eval.jsonl": jsonl(EVAL)},
                   extra="metrics:\n  - {name: exact_match, threshold: '>= 0.99'}\n",
                   models="  - {name: tiny, path: models/tiny}\n")
    return run_audit(spec)


@pytest.mark.parametrize("check", ["parse_error", "schema_error", "empty_field", "placeholder", "exact_duplicate",
                                   "conflicting_label", "near_duplicate", "too_long", "leakage", "encoding"])
def test_each_check_flags_exactly_the_planted_rows(report, check):
    assert lines(report, check) == planted_lines(check)
    assert finding(report, check).count == len(planted_lines(check))
    assert all(row.file == "train.jsonl" for row in finding(report, check).rows)


def test_notes_say_what_and_where(report):
    notes = {check: [row.note for row in finding(report, check).rows]
             for check in ("exact_duplicate", "conflicting_label", "near_duplicate", "leakage", "schema_error")}
    assert notes["exact_duplicate"] == ["same as train.jsonl:1"]
    assert notes["conflicting_label"] == ["same prompt as train.jsonl:2 with a different target"]
    assert notes["near_duplicate"][0].startswith(f"near duplicate of train.jsonl:{planted_lines('ok')[-1]} ")
    assert notes["leakage"][0] == "prompt also in the eval set at eval.jsonl:1"
    assert notes["leakage"][1].startswith("prompt nearly the same as the eval set's eval.jsonl:2")
    assert notes["schema_error"] == ["the row is a list, not an object", "`instruction` is a number, not a string",
                                     "missing required field `instruction`"]
    placeholder = [row.note for row in finding(report, "placeholder").rows]
    assert "media" in placeholder[0] and "URL" in placeholder[1] and "'N/A'" in placeholder[2]
    assert "'<noinput>'" in placeholder[3] and "punctuation" in placeholder[4] and "merged" in placeholder[5]
    encoding = [row.note for row in finding(report, "encoding").rows]
    assert encoding == ["`instruction`: mojibake 'What is xÂ² when x is ' -> 'What is x² when x is '",  # 12 around
                        "`output`: mojibake 'It was 50Â°F at noon.' -> 'It was 50°F at noon.'"]
    assert finding(report, "encoding").severity == "warning"


def test_severities_and_blocking(report):
    severity = {f.check: f.severity for f in report.findings}
    assert severity["leakage"] == severity["parse_error"] == severity["schema_error"] == "error"
    assert severity["placeholder"] == severity["near_duplicate"] == "warning"
    assert {f.check for f in report.errors} == {"parse_error", "schema_error", "empty_field", "leakage"}


def test_stats_count_rows_and_clean_rows(report):
    train_rows = len([kind for kind, _ in PLANTED if kind != "blank"])
    blocking = {"parse_error", "schema_error", "empty_field", "leakage"}
    assert report.stats["rows"] == {"eval": len(EVAL), "train": train_rows}
    assert report.clean_rows("train") == train_rows - sum(len(planted_lines(c)) for c in blocking)
    assert report.clean_rows("eval") == len(EVAL)
    assert report.stats["files"]["train.jsonl"]["rows"] == train_rows


def test_token_lengths_per_model(report, tokenizer_dir):
    usable = [row for kind, row in PLANTED if kind not in ("parse_error", "blank", "schema_error", "empty_field")]
    texts = [f"{r['instruction']}\n{r['input']}\n{r['output']}" if r["input"] else
             f"{r['instruction']}\n{r['output']}" for r in EVAL + usable]
    lengths = sorted(len(tokenizer_dir.encode(text).ids) for text in texts)
    stats = report.stats["token_lengths"]["tiny"]
    assert stats == {"rows": len(lengths), "min": lengths[0], "median": lengths[math.ceil(len(lengths) / 2) - 1],
                     "p95": lengths[math.ceil(0.95 * len(lengths)) - 1], "max": lengths[-1],
                     "over_limit": sum(n > 64 for n in lengths), "limit": 64}
    assert stats["over_limit"] == len(planted_lines("too_long"))
    assert finding(report, "too_long").rows[0].note == f"{lengths[-1]} tokens for tiny (limit 64)"


def test_eval_set_too_small_for_its_threshold(report):
    size = finding(report, "size")
    needed = math.ceil(math.log(0.05) / math.log(0.99))
    messages = [row.note for row in size.rows]
    assert any(f"the eval set has {len(EVAL)} examples" in m and f"at least {needed} examples" in m
               and f"{0.05 ** (1 / len(EVAL)):.3f}" in m for m in messages)
    assert any("fewer than" not in m and "guidance is about 1,000" in m for m in messages)
    assert size.severity == "warning" and size.count == 2


def test_a_tokenizer_that_fails_on_the_data_is_reported_not_fatal(project, tokenizer_dir, tmp_path):
    """A word-level vocabulary without its unknown token raises on the first unknown word: that model's lengths
    are skipped with the tokenizer's own error, the other model is still measured, and check still answers."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    from tests.invoke import invoke

    broken = Tokenizer(models.WordLevel({"word": 0}, unk_token="[UNK]"))
    broken.pre_tokenizer = pre_tokenizers.Whitespace()
    (tmp_path / "models" / "broken").mkdir(parents=True)
    broken.save(str(tmp_path / "models" / "broken" / "tokenizer.json"))
    spec = project("  format: instruction\n  train: train.jsonl\n", {"train.jsonl": jsonl([_ok(i) for i in range(8)])},
                   models="  - {name: tiny, path: models/tiny}\n  - {name: broken, path: models/broken}\n")
    stats = run_audit(spec).stats
    assert stats["tokenizers_skipped"] == {"broken": "its tokenizer failed on train.jsonl: "
                                                     "WordLevel error: Missing [UNK] token from the vocabulary"}
    assert stats["token_lengths"]["tiny"]["rows"] == 8 and "broken" not in stats["token_lengths"]
    result = invoke(["check", str(spec)])
    assert result.exit_code == 2 and "Traceback" not in result.output  # 2: eight rows are too few (size)
    assert "tokens broken: not measured (its tokenizer failed on train.jsonl: WordLevel error" in result.output
