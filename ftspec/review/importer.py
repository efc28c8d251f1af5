"""`ftspec review import FILE [--run RUN]`: Label Studio's JSON export (or the exported CSV filled in), matched to
the run's rows by id and checked: an unknown task, a missing rating or one outside the scale is each a located
message (`file:index`), and nothing is stored unless every judgement is sound. Stored in runs/<id>/reviews/."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from ftspec.errors import UsageError
from ftspec.review.labelstudio import PAIRWISE, PREFERENCE, RATING
from ftspec.review.scales import SIDES, scale_text, value_of
from ftspec.review.store import PREFERENCES, RATINGS, merge, read_pairs, reviews_dir, row_keys

MAX_BYTES = 200 * 1024 * 1024  # a review file larger than this is refused before it is read
SHOWN = 20


def _answers(annotation: dict) -> dict[str, object]:
    """from_name -> the answer of one Label Studio annotation (a rating, or the first choice)."""
    found = {}
    for result in annotation.get("result") or []:
        value = result.get("value") or {}
        if "rating" in value:
            found[result.get("from_name")] = value["rating"]
        elif value.get("choices"):
            found[result.get("from_name")] = value["choices"][0]
    return found


def _annotator(annotation: dict, index: int) -> str:
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        who = who.get("email") or who.get("id")
    return str(who) if who is not None else f"annotator{index}"


def read_label_studio(path: Path) -> list[tuple[str, dict, str, dict]]:
    """(place, task data, annotator, answers) per annotation of a Label Studio JSON export."""
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: not a Label Studio JSON export: {exc}", "export the project as JSON") from None
    if not isinstance(tasks, list):
        raise UsageError(f"{path}: a Label Studio export is a JSON list of tasks", "export the project as JSON")
    found = []
    for index, task in enumerate(tasks):
        data = task.get("data") if isinstance(task, dict) else None
        annotations = [a for a in (task.get("annotations") or []) if not a.get("was_cancelled")] \
            if isinstance(data, dict) else []
        if not annotations:
            found.append((f"{path}:{index}", data if isinstance(data, dict) else {}, "", None))
        for j, annotation in enumerate(annotations):
            found.append((f"{path}:{index}", data, _annotator(annotation, j), _answers(annotation)))
    return found


def read_csv(path: Path) -> list[tuple[str, dict, str, dict]]:
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    found = []
    for line, row in enumerate(rows, start=2):
        answers = {k: v for k, v in row.items() if k not in ("ftspec_kind", "ftspec_run", "row", "slice", "prompt",
                                                               "output", "left", "right", "pair", "annotator")}
        answers = {k: v for k, v in answers.items() if v not in (None, "")}
        found.append((f"{path}:{line}", row, row.get("annotator") or f"row{line}", answers or None))
    return found


def _judgement(place, data, annotator, answers, run_keys, pairs, rubric, errors) -> list[dict]:
    kind = data.get("ftspec_kind")
    if answers is None:
        errors.append(f"{place}: no annotation (a task nobody judged)")
        return []
    if kind == RATING:
        key = data.get("row")
        if key not in run_keys:
            errors.append(f"{place}: unknown task: row `{key}` is not in the run's predictions")
            return []
        found = []
        for criterion in rubric:
            answer = answers.get(criterion.name)
            value = None if answer is None else value_of(criterion.scale, answer)
            if answer is None:
                errors.append(f"{place}: {annotator} gave no rating for `{criterion.name}`")
            elif value is None:
                errors.append(f"{place}: {annotator} rated `{criterion.name}` {answer!r}, outside the scale "
                              f"({scale_text(criterion.scale)})")
            else:
                found.append({"row": key, "slice": run_keys[key]["slice"], "annotator": annotator,
                              "criterion": criterion.name, "value": value})
        return found
    if kind == PAIRWISE:
        pair = pairs.get("pairs", {}).get(data.get("pair"))
        answer = str(answers.get(PREFERENCE, "")).strip().lower()
        if pair is None:
            errors.append(f"{place}: unknown task: pair `{data.get('pair')}` is not in the run's last pairwise export")
        elif answer not in SIDES:
            errors.append(f"{place}: {annotator} answered {answers.get(PREFERENCE)!r} for `{PREFERENCE}`, not one of "
                          f"{', '.join(SIDES)}")
        else:
            winner = "tie" if answer == "tie" else ("this" if answer == pair["this_side"] else "other")
            return [{"row": pair["row"], "slice": pair["slice"], "pair": data["pair"], "annotator": annotator,
                     "other": pairs.get("other"), "winner": winner}]
        return []
    errors.append(f"{place}: unknown task: `ftspec_kind` is {kind!r}, not {RATING} or {PAIRWISE}")
    return []


def import_reviews(loaded, path: Path, run_ref: str | None = None) -> dict:
    from ftspec.evals.runs import read_predictions
    from ftspec.versions.refs import resolve_run

    path = Path(path)
    if not path.is_file():
        raise UsageError(f"no file at {path}", "pass the Label Studio JSON export or the filled-in CSV")
    if path.stat().st_size > MAX_BYTES:
        raise UsageError(f"{path} is larger than {MAX_BYTES >> 20} MiB", "import it in parts")
    entries = read_csv(path) if path.suffix.lower() == ".csv" else read_label_studio(path)
    named = {data.get("ftspec_run") for _, data, _, _ in entries if data.get("ftspec_run")}
    if run_ref is None and len(named) != 1:
        raise UsageError(f"{path}: the tasks name {len(named)} runs", "pass --run RUN")
    run = resolve_run(loaded, run_ref or named.pop())
    run_keys, pairs = row_keys(read_predictions(run.path).rows), read_pairs(run.path)
    errors, ratings, preferences = [], [], []
    for place, data, annotator, answers in entries:
        for judgement in _judgement(place, data, annotator, answers, run_keys, pairs, loaded.spec.review.rubric,
                                    errors):
            (preferences if "winner" in judgement else ratings).append(judgement)
    if errors:
        more = f" (and {len(errors) - SHOWN} more)" if len(errors) > SHOWN else ""
        listed = "\n  ".join(errors[:SHOWN])
        raise UsageError(f"{len(errors)} problems in {path}, nothing imported:\n  {listed}{more}",
                         "fix the annotations (or the rubric in the spec) and import again")
    folder = reviews_dir(run.path)
    stored = {"ratings": merge(folder / RATINGS, ratings, ("row", "annotator", "criterion")) if ratings else None,
              "preferences": merge(folder / PREFERENCES, preferences, ("pair", "annotator")) if preferences else None}
    return {"run": run.id, "file": str(path), "ratings": len(ratings), "preferences": len(preferences),
            "stored": stored, "folder": str(folder)}
