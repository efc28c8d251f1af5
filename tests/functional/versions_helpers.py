"""Crafted pairs of runs for the versions tests: one spec, two run folders whose fine-tuned predictions differ where a
test plants a change, so the right answer is known."""

from __future__ import annotations

import json
from pathlib import Path

from tests.functional.eval_helpers import rows, write_project, write_run

RUN_A = "20250101-120000-aaaa"
RUN_B = "20250102-120000-bbbb"


def answers(n: int, slice_name: str = "all") -> list[tuple[str, str]]:
    return [(f"{slice_name}-answer-{i}", f"{slice_name}-answer-{i}") for i in range(n)]


def planted(pairs: list[tuple[str, str]], wrong: range) -> list[tuple[str, str]]:
    """The same references, with the predictions in `wrong` replaced by a wrong answer."""
    return [(ref, "wrong" if i in wrong else pred) for i, (ref, pred) in enumerate(pairs)]


def project(root: Path, metrics: list[dict] | None = None, regression: dict | None = None,
            slices: tuple[str, ...] = ()) -> Path:
    spec = write_project(root, metrics or [{"name": "exact_match", "threshold": ">= 0.5"}], slices=slices)
    if regression is not None:
        data = json.loads(spec.read_text())
        data["regression"] = regression
        spec.write_text(json.dumps(data, indent=2))
    return spec


def run_pair(root: Path, a: list[dict], b: list[dict], passed: bool = True) -> tuple[Path, Path]:
    """Two run folders; each has a report.json with the given verdict (as `ftspec eval` leaves it)."""
    made = []
    for run_id, predictions in ((RUN_A, a), (RUN_B, b)):
        run = write_run(root, predictions, run_id=run_id)
        (run / "report.json").write_text(json.dumps({"verdict": "pass" if passed else "fail", "gates": []}))
        made.append(run)
    return made[0], made[1]


def tuned(pairs: list[tuple[str, str]], slice_name: str = "all") -> list[dict]:
    return rows("finetuned", pairs, slice_name)
