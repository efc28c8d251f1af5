"""The reviews of a run, kept in its folder (runs/<id>/reviews/): ratings and pairwise preferences as JSONL, and the
pairs of the last pairwise export (which side showed which run). Written atomically; read back for eval."""

from __future__ import annotations

import json
from pathlib import Path

from ftspec.fsutil import atomic_write_text

REVIEWS = "reviews"
RATINGS = "ratings.jsonl"
PREFERENCES = "preferences.jsonl"
PAIRS = "pairs.json"
TUNED = "finetuned"


def reviews_dir(run_dir: Path) -> Path:
    return Path(run_dir) / REVIEWS


def read_jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


def merge(path: Path, new: list[dict], key: tuple[str, ...]) -> int:
    """Add judgements to a file; a judgement given again (same row, annotator, criterion) replaces the old one."""
    kept = {tuple(row[k] for k in key): row for row in read_jsonl(path)}
    for row in new:
        kept[tuple(row[k] for k in key)] = row
    write_jsonl(path, list(kept.values()))
    return len(kept)


def read_pairs(run_dir: Path) -> dict:
    path = reviews_dir(run_dir) / PAIRS
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def write_pairs(run_dir: Path, pairs: dict) -> None:
    path = reviews_dir(run_dir) / PAIRS
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(pairs, indent=1, ensure_ascii=False) + "\n")


def row_keys(rows: list[dict], model: str = TUNED) -> dict[str, dict]:
    """"slice/id" -> row for one model's rows; an id-less row is keyed by its place in its slice, as eval does."""
    found, places = {}, {}
    for row in rows:
        if row.get("model") != model:
            continue
        place = places[row["slice"]] = places.get(row["slice"], -1) + 1
        ident = row.get("id")
        found[f"{row['slice']}/{ident if ident is not None else row['slice'] + '#' + str(place)}"] = row
    return found


def attach(run_dir: Path, rows: list[dict]) -> int:
    """Put each fine-tuned row's judgements on it (`row["human"]`), for the human metrics' scorers; returns how
    many rows were reviewed."""
    ratings, preferences = read_jsonl(reviews_dir(run_dir) / RATINGS), read_jsonl(reviews_dir(run_dir) / PREFERENCES)
    if not ratings and not preferences:
        return 0
    by_key = row_keys(rows)
    for judgement in ratings:
        row = by_key.get(judgement["row"])
        if row is not None:
            human = row.setdefault("human", {"ratings": {}, "wins": [], "ties": 0})
            human["ratings"].setdefault(judgement["criterion"], []).append(judgement["value"])
    for judgement in preferences:
        row = by_key.get(judgement["row"])
        if row is not None:
            human = row.setdefault("human", {"ratings": {}, "wins": [], "ties": 0})
            if judgement["winner"] == "tie":
                human["ties"] += 1
            else:
                human["wins"].append(1.0 if judgement["winner"] == "this" else 0.0)
    return sum("human" in row for row in by_key.values())
