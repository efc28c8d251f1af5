"""The rungs' rows join a run's predictions byte for byte, and the report says where each base model came from."""

from __future__ import annotations

import json
from pathlib import Path

from ftspec.baseline.reuse import Reuse, append_rows, base_sources
from ftspec.baseline.store import Stored
from ftspec.runtime.rundir import RunDir


def row(model: str, prediction: str) -> str:
    return json.dumps({"model": model, "slice": "all", "id": "eval-0", "prediction": prediction,
                       "reference": "ü"}, ensure_ascii=False) + "\n"


def test_rung_rows_are_appended_unchanged_and_named_as_their_source(tmp_path: Path):
    measured = tmp_path / "baselines" / "20260101-000000-abcd"
    for rung, model in (("zero_shot", "base_zero_shot"), ("few_shot", "base_few_shot")):
        (measured / rung).mkdir(parents=True)
        (measured / rung / "predictions.jsonl").write_text(row(model, f"{rung} ü"), encoding="utf-8")
    run = RunDir(tmp_path / "runs" / "20260102-000000-beef")
    run.path.mkdir(parents=True)
    run.predictions.write_text(row("finetuned", "tuned"), encoding="utf-8")

    append_rows(run, Reuse(Stored(measured, {}), {"base_zero_shot": "zero_shot", "base_few_shot": "few_shot"}))
    assert run.predictions.read_text(encoding="utf-8") == (row("finetuned", "tuned") + row("base_zero_shot",
                                                           "zero_shot ü") + row("base_few_shot", "few_shot ü"))
    rows = [json.loads(line) for line in run.predictions.read_text(encoding="utf-8").splitlines()]
    assert base_sources(run.path, rows) == {"base_zero_shot": "from baseline 20260101-000000-abcd (zero_shot rung)",
                                            "base_few_shot": "from baseline 20260101-000000-abcd (few_shot rung)"}
    (run.path / "base_sources.json").unlink()
    assert base_sources(run.path, rows) == {"base_zero_shot": "generated in this run",
                                            "base_few_shot": "generated in this run"}
