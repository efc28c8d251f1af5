"""`ftspec data audit`, `ftspec data clean` and the audit inside `ftspec check`, through the CLI."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import stat
from pathlib import Path

import pytest

from tests.invoke import invoke as invoke_cli

DUPLICATES = 25  # more than a finding lists (20): the flagged file must still hold every one


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # as a user would run it: paths are shown relative to the current folder
    data = tmp_path / "data"
    data.mkdir()
    items, colours = ["mug", "lamp", "chair", "scarf", "kettle"], ["red", "teal", "amber", "navy", "olive", "pink",
                                                                   "grey", "lime"]
    rows = [{"prompt": f"Hi, order #{1000 + i}: {i % 4 + 1} {colours[i % 8]} {items[i % 5]}s please",
             "completion": json.dumps({"item": items[i % 5], "colour": colours[i % 8], "qty": i % 4 + 1})}
            for i in range(40)]
    lines = [json.dumps(r) for r in rows] + [json.dumps(rows[i]) for i in range(DUPLICATES)] + ['{"prompt": ']
    (data / "train.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    held_out = [{"prompt": "Order 99: one cup, thanks", "completion": '{"item": "cup"}'}, rows[5]]
    (data / "eval.json").write_text(json.dumps(held_out, indent=2), encoding="utf-8")
    spec = tmp_path / "project.yaml"
    spec.write_text("ftspec: 1\nname: orders\nmetrics:\n  - {name: json_valid, threshold: '>= 0.9'}\n"
                    "data:\n  format: prompt_completion\n  train: data/train.jsonl\n  eval: data/eval.json\n"
                    "  quality: {min_examples: 10}\nmodels:\n  - {name: m, hub: org/m, params: 1B}\n",
                    encoding="utf-8")
    return spec


def invoke(*args: str):
    return invoke_cli(list(args))


def test_data_audit_writes_every_flagged_row(project, tmp_path):
    before = _digest(project.parent / "data")
    out = tmp_path / "flagged.jsonl"
    result = invoke("data", "audit", project, "--out", out)
    assert result.exit_code == 2, result.output  # a parse error and a leak are errors
    flagged = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    by_check: dict[str, list] = {}
    for entry in flagged:
        by_check.setdefault(entry["check"], []).append(entry)
    assert len(by_check["exact_duplicate"]) == DUPLICATES
    assert [e["line"] for e in by_check["exact_duplicate"]] == list(range(41, 41 + DUPLICATES))
    assert by_check["exact_duplicate"][0]["row"]["prompt"].startswith("Hi, order #1000:")
    assert [(e["file"], e["line"], e["row"]) for e in by_check["parse_error"]] == [
        ("data/train.jsonl", 41 + DUPLICATES, '{"prompt": ')]
    assert [e["line"] for e in by_check["leakage"]] == [6, 46]  # the row and its duplicate
    assert "wrote" in result.output and str(out) in result.output
    assert _digest(project.parent / "data") == before


def test_data_audit_json(project):
    result = invoke("data", "audit", project, "--json")
    document = json.loads(result.output)
    counts = {f["check"]: f["count"] for f in document["audit"]["findings"]}
    assert counts["exact_duplicate"] == DUPLICATES and counts["parse_error"] == 1
    assert len(document["audit"]["findings"][4]["rows"]) <= 20
    assert document["exit_code"] == result.exit_code == 2


def test_check_reports_the_audit_and_exits_2(project):
    result = invoke("check", project, "--json")
    assert result.exit_code == 2
    audit = json.loads(result.output)["audit"]
    leakage = next(f for f in audit["findings"] if f["check"] == "leakage")
    assert leakage["severity"] == "error" and leakage["rows"][0] == {
        "file": "data/train.jsonl", "line": 6, "note": "prompt also in the eval set at data/eval.json:6"}
    assert audit["stats"]["clean_rows"] == {"eval": 2, "train": 40 + DUPLICATES + 1 - 3}
    text = invoke("check", project)
    assert text.exit_code == 2 and "leakage" in text.output and "train.jsonl:6" in text.output


def test_data_clean_writes_a_copy_and_a_log(project, tmp_path):
    before = _digest(project.parent / "data")
    out = tmp_path / "clean"
    result = invoke("data", "clean", project, "--out", out)
    assert result.exit_code == 0, result.output
    assert _digest(project.parent / "data") == before
    original = (project.parent / "data" / "train.jsonl").read_text(encoding="utf-8").splitlines()
    kept = (out / "train.jsonl").read_text(encoding="utf-8").splitlines()
    assert kept == [line for i, line in enumerate(original[:40]) if i != 5]  # byte for byte, minus the leak
    log = [json.loads(line) for line in (out / "clean_log.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(log) == DUPLICATES + 2 and {tuple(e["checks"]) for e in log} >= {("parse_error",), ("leakage",)}
    assert json.loads((out / "eval.json").read_text(encoding="utf-8")) == json.loads(
        (project.parent / "data" / "eval.json").read_text(encoding="utf-8"))
    summary = json.loads((out / "clean_summary.json").read_text(encoding="utf-8"))
    assert summary["files"]["data/train.jsonl"] == {"written": "train.jsonl", "kept": 39,
                                                    "removed": DUPLICATES + 2}
    assert summary["removed_by_check"]["exact_duplicate"] == DUPLICATES
    assert not list(out.glob(".*.tmp"))


def test_cleaned_copy_passes_the_audit(project, tmp_path):
    out = tmp_path / "clean"
    assert invoke("data", "clean", project, "--out", out).exit_code == 0
    cleaned = tmp_path / "cleaned.yaml"
    cleaned.write_text(project.read_text(encoding="utf-8").replace("data/", "clean/"), encoding="utf-8")
    document = json.loads(invoke("data", "audit", cleaned, "--json").output)
    # what is left are warnings: fewer than 1,000 rows, and 2 eval rows for a 0.9 threshold
    assert {f["check"]: f["count"] for f in document["audit"]["findings"] if f["count"]} == {"size": 2}
    assert document["exit_code"] == 0


def test_clean_keeps_csv_as_csv(tmp_path):
    (tmp_path / "src").mkdir()
    with (tmp_path / "src" / "t.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["q", "a"], ["What is 1+1?", "2"], ["What is 1+1?", "2"], ["Hi", ""]])
    spec = tmp_path / "p.yaml"
    spec.write_text("ftspec: 1\nname: c\ndata:\n  format: prompt_completion\n  train: src/t.csv\n"
                    "  fields: {prompt: q, completion: a}\nmodels:\n  - {name: m, hub: o/m, params: 1B}\n")
    assert invoke("data", "clean", spec, "--out", tmp_path / "out").exit_code == 0
    with (tmp_path / "out" / "t.csv").open(newline="", encoding="utf-8") as handle:
        assert list(csv.reader(handle)) == [["q", "a"], ["What is 1+1?", "2"]]


def test_clean_refuses_the_folder_of_the_originals(project):
    before = _digest(project.parent / "data")
    result = invoke("data", "clean", project, "--out", project.parent / "data")
    assert result.exit_code == 2 and "folder of the original data" in result.output
    assert _digest(project.parent / "data") == before


def test_audit_refuses_to_overwrite_a_data_file(project):
    before = _digest(project.parent / "data")
    result = invoke("data", "audit", project, "--out", project.parent / "data" / "train.jsonl")
    assert result.exit_code == 2 and "overwrite a data file" in result.output
    assert _digest(project.parent / "data") == before


def test_paths_are_shown_from_the_current_folder(project, tmp_path, monkeypatch):
    """Run from the folder above the project: every path (flagged rows, notes, the size finding) is relative to
    where the user stands, the same way; from a folder outside, every path is absolute."""
    monkeypatch.chdir(tmp_path.parent)
    here = tmp_path.name
    out = tmp_path / "flagged.jsonl"
    invoke("data", "audit", f"{here}/project.yaml", "--out", out)
    entries = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {e["file"] for e in entries} == {f"{here}/data/train.jsonl"}
    leak = next(e for e in entries if e["check"] == "leakage")
    assert leak["message"] == f"prompt also in the eval set at {here}/data/eval.json:6"
    document = json.loads(invoke("data", "audit", f"{here}/project.yaml", "--json").output)
    size = next(f for f in document["audit"]["findings"] if f["check"] == "size")
    assert {row["file"] for row in size["rows"]} == {f"{here}/project.yaml"}
    assert set(document["audit"]["stats"]["files"]) == {f"{here}/data/train.jsonl", f"{here}/data/eval.json"}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    document = json.loads(invoke("data", "audit", "../project.yaml", "--json").output)
    size = next(f for f in document["audit"]["findings"] if f["check"] == "size")
    assert {row["file"] for row in size["rows"]} == {str(tmp_path / "project.yaml")}
    assert set(document["audit"]["stats"]["files"]) == {str(tmp_path / "data" / "train.jsonl"),
                                                       str(tmp_path / "data" / "eval.json")}


def test_clean_writes_files_with_the_umask_mode(project, tmp_path):
    previous = os.umask(0o022)
    try:
        assert invoke("data", "clean", project, "--out", tmp_path / "clean").exit_code == 0
        out = tmp_path / "flagged.jsonl"
        invoke("data", "audit", project, "--out", out)
    finally:
        os.umask(previous)
    written = [*sorted((tmp_path / "clean").iterdir()), out]
    assert len(written) == 5
    assert {path.name: stat.S_IMODE(path.stat().st_mode) for path in written} == {
        path.name: 0o644 for path in written}


def test_clean_summary_counts_the_rows_it_kept(project, tmp_path):
    result = invoke("data", "clean", project, "--out", tmp_path / "clean", "--json")
    summary = json.loads(result.output)["summary"]
    kept = {name: counts["kept"] for name, counts in summary["files"].items()}
    assert kept == {"data/train.jsonl": 39, "data/eval.json": 2}
    assert summary["clean_rows"] == {"train": 39, "eval": 2}
    assert json.loads((tmp_path / "clean" / "clean_summary.json").read_text(encoding="utf-8")) == summary


MOJIBAKE = [{"prompt": "What is xÂ² for x = 4?", "completion": "16"},
            {"prompt": "How warm is it?", "completion": "It is 50Â°F outside."},
            {"prompt": "Say hi in French", "completion": "Salut, ça va ?"}]


def test_clean_fix_encoding_repairs_mojibake(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "t.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in MOJIBAKE),
                                              encoding="utf-8")
    spec = tmp_path / "p.yaml"
    spec.write_text("ftspec: 1\nname: c\ndata:\n  format: prompt_completion\n  train: src/t.jsonl\n"
                    "models:\n  - {name: m, hub: o/m, params: 1B}\n")
    audit = json.loads(invoke("data", "audit", "p.yaml", "--json").output)["audit"]
    encoding = next(f for f in audit["findings"] if f["check"] == "encoding")
    assert encoding["severity"] == "warning" and [r["line"] for r in encoding["rows"]] == [1, 2]
    assert encoding["rows"][0]["note"] == "`prompt`: mojibake 'What is xÂ² for x = 4?' -> 'What is x² for x = 4?'"
    assert invoke("data", "clean", "p.yaml", "--out", "plain").exit_code == 0  # without the flag: removed
    assert [json.loads(line) for line in (tmp_path / "plain" / "t.jsonl").read_text().splitlines()] == MOJIBAKE[2:]
    result = invoke("data", "clean", "p.yaml", "--out", "fixed", "--fix-encoding", "--json")
    summary = json.loads(result.output)["summary"]
    rows = [json.loads(line) for line in (tmp_path / "fixed" / "t.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows == [{"prompt": "What is x² for x = 4?", "completion": "16"},
                    {"prompt": "How warm is it?", "completion": "It is 50°F outside."}, MOJIBAKE[2]]
    log = [json.loads(line) for line in (tmp_path / "fixed" / "clean_log.jsonl").read_text().splitlines()]
    assert [(e["line"], e["action"], e["row"]) for e in log] == [(1, "repaired", rows[0]), (2, "repaired", rows[1])]
    assert summary["files"]["src/t.jsonl"] == {"written": "t.jsonl", "kept": 3, "removed": 0, "repaired": 2}
    assert summary["repaired_by_check"] == {"encoding": 2}
