"""Which training data the monitor compares against, the novelty index, and the cadence from the drift rate."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ftspec.data.text import words
from ftspec.monitor.novelty import NoveltyIndex
from ftspec.monitor.training import profile_training, training_source
from ftspec.monitor.verdict import cadence
from ftspec.spec.load import load_spec

DEMO = Path(__file__).resolve().parents[3] / "specs" / "demo"


@pytest.fixture
def demo(tmp_path):
    shutil.copytree(DEMO / "data", tmp_path / "data")
    (tmp_path / "models" / "tiny-llama").mkdir(parents=True)
    shutil.copy(DEMO / "project.yaml", tmp_path / "project.yaml")
    return tmp_path / "project.yaml"


def _promote(root: Path, run: str, train: str) -> None:
    folder = root / "runs" / run
    folder.mkdir(parents=True)
    (folder / "spec.yaml").write_text(f"data:\n  train: {train}\n", encoding="utf-8")
    (folder / "manifest.json").write_text(json.dumps({"data": {train: "0" * 64}}), encoding="utf-8")
    (root / "models.json").write_text(json.dumps({"promoted": {"run": run}}), encoding="utf-8")


def test_training_data_comes_from_the_promoted_run_when_one_exists(demo):
    loaded = load_spec(demo)
    assert training_source(loaded).source == "data.train"
    (demo.parent / "data" / "older.jsonl").write_text(
        "".join(line for line in (demo.parent / "data" / "train.jsonl").open() if "hoodie" in line))
    _promote(demo.parent, "20260101-000000-abcd", "data/older.jsonl")
    source = training_source(load_spec(demo))
    assert source.source == "promoted run 20260101-000000-abcd"
    assert [name for _, name in source.files] == ["data/older.jsonl"]
    profile = profile_training(load_spec(demo), 0.3)
    assert 0 < profile.rows < 400 and b"hoodies" in profile.vocab and b"mugs" not in profile.vocab


def test_a_promoted_run_whose_files_are_gone_falls_back_to_data_train_and_says_so(demo):
    _promote(demo.parent, "20260101-000000-abcd", "data/deleted.jsonl")
    source = training_source(load_spec(demo))
    assert source.source == "data.train" and "missing" in source.note


def test_novelty_finds_in_distribution_prompts_near_and_a_new_topic_novel(demo):
    profile = profile_training(load_spec(demo), 0.3)
    assert profile.rows == 400
    prompts = ["Hi, can you reserve 3 pink posters? Thanks!", "I'd like 2 navy hoodies.",
               "My parcel never arrived and the tracking link is broken, please refund my payment"]
    flags, sigs = profile.index.novel(prompts, [words(p) for p in prompts])
    assert flags == [False, False, True] and set(sigs) == {2}
    again, fresh = profile.index.novel(prompts, [words(p) for p in prompts])  # cached: same answer, no signature
    assert again == flags and fresh == {}


def test_an_empty_index_finds_everything_novel():
    flags, _ = NoveltyIndex(0.3).novel(["a b c"], [words("a b c")])
    assert flags == [True]


def _window(start: str, novelty: float, verdict: str = "ok") -> dict:
    return {"start": start, "judged": True, "verdict": verdict, "drift": {"novelty": novelty}}


def test_cadence_follows_how_fast_novelty_climbs():
    fast = [_window("2026-01-05", 0.05), _window("2026-01-12", 0.2, "watch"), _window("2026-01-19", 0.4,
                                                                                     "refine_tune")]
    assert cadence(fast, 0.35, "week")["suggested"] == "monthly"  # due 21 days after the first window
    daily = [_window("2026-01-05", 0.1), _window("2026-01-06", 0.5, "refine_tune")]
    assert cadence(daily, 0.35, "day")["suggested"] == "weekly"
    climbing = [_window("2026-01-05", 0.05), _window("2026-01-12", 0.07), _window("2026-01-19", 0.09)]
    found = cadence(climbing, 0.35, "week")  # 0.02 a week: 0.26 to go, 91 more days
    assert found["rate_per_week"] == pytest.approx(0.02)
    assert found["days_to_refine"] == pytest.approx(14 + 0.26 / (0.02 / 7))
    assert found["suggested"] == "quarterly"
    flat = [_window("2026-01-05", 0.05), _window("2026-01-12", 0.05)]
    assert cadence(flat, 0.35, "week")["suggested"] == "quarterly"
    assert cadence(flat[:1], 0.35, "week")["days_to_refine"] is None
