"""`ftspec review export RUN [--against RUN_B] --out DIR`: a stratified, seeded sample of a run's eval rows as a
Label Studio project (tasks JSON + labeling config) and as CSV, for rubric ratings of the run's outputs and, with
--against, for blind pairwise preference between the two runs (sides shuffled; the mapping stays out of the tasks).

The rows whose verdict changed between the two runs come first (ftspec.versions' pairing), then every slice gets
its turn in a seeded round-robin until `review.sample` rows are drawn."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

from ftspec.errors import UsageError
from ftspec.fsutil import atomic_write_text
from ftspec.review.labelstudio import PAIRWISE, RATING, check_tasks, pairwise_config, rating_config
from ftspec.review.store import row_keys, write_pairs

SIDES_FILE = "sides.json"
BASELINES = ("base_zero_shot", "base_few_shot")


def stratified(keys: dict[str, dict], first: list[str], size: int, seed: int) -> list[str]:
    """`first` (changed rows) in order, then a seeded round-robin over the slices."""
    chosen = list(dict.fromkeys(k for k in first if k in keys))[:size]
    rng = random.Random(seed)
    by_slice: dict[str, list[str]] = {}
    for key, row in keys.items():
        if key not in chosen:
            by_slice.setdefault(row["slice"], []).append(key)
    queues = [rng.sample(rows, len(rows)) for _, rows in sorted(by_slice.items())]
    while len(chosen) < size and any(queues):
        for queue in queues:
            if queue and len(chosen) < size:
                chosen.append(queue.pop())
    return chosen


def _changed(loaded, run, other) -> list[str]:
    """The rows whose score changed between the runs, worst first (empty when they cannot be compared)."""
    if not loaded.spec.metrics:
        return []
    from ftspec.versions.compare import compare_runs

    try:
        result = compare_runs(loaded, other, run, intersection=True)
    except UsageError:
        return []
    return [f"{row['slice']}/{row['id']}" for row in result["changed_rows"]]


def export_review(loaded, run, out: Path, against: str | None = None) -> dict:
    from ftspec.evals.runs import read_predictions
    from ftspec.versions.refs import resolve_run

    spec = loaded.spec.review
    seed = spec.seed if spec.seed is not None else loaded.spec.training.seed
    rows = read_predictions(run.path).rows
    mine = row_keys(rows)
    if not mine:
        raise UsageError(f"run {run.id} has no predictions of the fine-tuned model", "finish its eval step first")
    other_id, theirs, first = None, {}, []
    if against in BASELINES:
        other_id, theirs = against, row_keys(rows, against)
    elif against is not None:
        other = resolve_run(loaded, against)
        other_id, theirs, first = other.id, row_keys(read_predictions(other.path).rows), _changed(loaded, run, other)
    if against is not None and not set(mine) & set(theirs):
        raise UsageError(f"{other_id} shares no eval row with run {run.id}", "compare runs of the same eval set")
    pool = {k: r for k, r in mine.items() if not theirs or k in theirs}
    chosen = stratified(pool, first, spec.sample, seed)
    out.mkdir(parents=True, exist_ok=True)
    result = {"run": run.id, "against": other_id, "seed": seed, "rows": len(chosen), "changed_first": len(first),
              "annotators_per_task": spec.annotators_per_task, "out": str(out), "files": []}
    if spec.rubric:
        _write_rating(out, run.id, chosen, mine, spec.rubric, result)
    if other_id is not None:
        _write_pairwise(out, run, other_id, chosen, mine, theirs, seed, result)
    if not result["files"]:
        raise UsageError("nothing to review: the spec has no review.rubric and no --against run was given",
                         "add `review: {rubric: [{name: accuracy, scale: 1-5}]}` or pass --against RUN_B")
    atomic_write_text(out / "export.json", json.dumps(result, indent=2) + "\n")
    return result


def _text(row: dict, name: str) -> str:
    value = row.get(name)
    return value if isinstance(value, str) else ""


def _write_project(out: Path, kind: str, config: str, tasks: list[dict], columns: list[str], result: dict) -> None:
    result[f"{kind}_checked_by_sdk"] = check_tasks(config, tasks)
    atomic_write_text(out / f"{kind}_config.xml", config)
    atomic_write_text(out / f"{kind}_tasks.json", json.dumps(tasks, indent=1, ensure_ascii=False) + "\n")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    for task in tasks:
        for _ in range(result["annotators_per_task"]):
            writer.writerow({c: task["data"].get(c, "") for c in columns})
    atomic_write_text(out / f"{kind}.csv", buffer.getvalue())
    result["files"] += [f"{kind}_config.xml", f"{kind}_tasks.json", f"{kind}.csv"]


def _write_rating(out, run_id, chosen, mine, rubric, result) -> None:
    tasks = [{"data": {"ftspec_kind": RATING, "ftspec_run": run_id, "row": key, "slice": mine[key]["slice"],
                       "prompt": _text(mine[key], "prompt"), "output": _text(mine[key], "prediction")}}
             for key in chosen]
    columns = ["ftspec_kind", "ftspec_run", "row", "slice", "prompt", "output", "annotator", *[c.name for c in rubric]]
    _write_project(out, RATING, rating_config(rubric), tasks, columns, result)


def _write_pairwise(out, run, other_id, chosen, mine, theirs, seed, result) -> None:
    rng = random.Random(f"{seed}:sides")
    tasks, pairs = [], {"run": run.id, "other": other_id, "seed": seed, "pairs": {}}
    for n, key in enumerate(chosen):
        pair = f"p{n:05d}"
        this_side = rng.choice(("left", "right"))
        texts = {this_side: _text(mine[key], "prediction"),
                 "right" if this_side == "left" else "left": _text(theirs[key], "prediction")}
        tasks.append({"data": {"ftspec_kind": PAIRWISE, "ftspec_run": run.id, "pair": pair,
                               "prompt": _text(mine[key], "prompt"), "left": texts["left"], "right": texts["right"]}})
        pairs["pairs"][pair] = {"row": key, "slice": mine[key]["slice"], "this_side": this_side,
                                "prompt": _text(mine[key], "prompt"), "this": _text(mine[key], "prediction"),
                                "other": _text(theirs[key], "prediction")}
    columns = ["ftspec_kind", "ftspec_run", "pair", "prompt", "left", "right", "annotator", "preference"]
    _write_project(out, PAIRWISE, pairwise_config(), tasks, columns, result)
    atomic_write_text(out / SIDES_FILE, json.dumps(pairs, indent=1, ensure_ascii=False) + "\n")
    write_pairs(run.path, pairs)  # the import reads the sides back from the run folder
    result["files"].append(SIDES_FILE)
