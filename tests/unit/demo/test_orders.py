"""The demo data generator: seeded, canonical, and its held-out splits never leak into train."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftspec.demo.orders import COLOURS, ITEMS, NUMBER_WORDS, jaccard, make_splits, pretraining_texts, shingles

DATA = Path(__file__).resolve().parents[3] / "specs" / "demo" / "data"


@pytest.fixture(scope="module")
def splits():
    return make_splits()


def test_generator_is_deterministic(splits):
    again = make_splits()
    assert {k: [r.to_json() for r in v] for k, v in again.items()} == {k: [r.to_json() for r in v]
                                                                       for k, v in splits.items()}


def test_other_seed_gives_other_data(splits):
    assert [r.prompt for r in make_splits(seed=99)["train"]] != [r.prompt for r in splits["train"]]


@pytest.mark.parametrize("split", ["train", "eval", "adversarial"])
def test_committed_data_is_the_generators_output(splits, split):
    committed = [json.loads(line) for line in (DATA / f"{split}.jsonl").read_text().splitlines()]
    assert committed == [row.to_json() for row in splits[split]]


def test_held_out_orders_and_prompts_never_appear_in_train(splits):
    train_prompts = {r.prompt for r in splits["train"]}
    train_orders = {r.completion for r in splits["train"]}
    for split in ("eval", "adversarial"):
        assert not {r.prompt for r in splits[split]} & train_prompts
        assert not {r.completion for r in splits[split]} & train_orders
    assert not {r.completion for r in splits["eval"]} & {r.completion for r in splits["adversarial"]}


def test_no_held_out_prompt_is_a_near_duplicate_of_a_train_prompt(splits):
    train = [shingles(r.prompt) for r in splits["train"]]
    for row in splits["eval"] + splits["adversarial"]:
        grams = shingles(row.prompt)
        assert max(jaccard(grams, other) for other in train) < 0.8, row.prompt


def test_completions_are_one_canonical_json_serialisation(splits):
    for row in [r for rows in splits.values() for r in rows]:
        payload = json.loads(row.completion)
        assert list(payload) == ["item", "colour", "quantity"]
        assert row.completion == json.dumps(payload)
        assert payload["item"] in ITEMS and payload["colour"] in COLOURS and 1 <= payload["quantity"] <= 12


def test_tags_describe_the_text(splits):
    rows = [r for rows in splits.values() for r in rows]
    for row in rows:
        if "caps" in row.tags:
            assert sum(word.isupper() for word in row.prompt.split()) >= 3  # the order itself is shouted
        if "number_word" in row.tags:
            assert any(word in row.prompt.lower() for word in NUMBER_WORDS)
        if "long" in row.tags:
            assert len(row.prompt) > 120
    assert all(row.tags for row in splits["adversarial"])  # every adversarial row carries some noise


def test_pretraining_text_never_shows_a_message_followed_by_its_payload():
    texts = pretraining_texts(500, seed=3)
    assert any(t.startswith('{"item"') for t in texts) and any(not t.startswith("{") for t in texts)
    for text in texts:
        assert '{"item"' not in text[1:], text  # a payload may open a document, never follow words
