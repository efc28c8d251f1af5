"""The generated eval.py times requests one at a time: a seeded sample of each slice is generated again at batch
size 1, and only those rows carry a latency, each its own (not a batch's wall time shared by its rows)."""

from __future__ import annotations

import pytest

from tests.functional.test_scripts import load_script, make_build, order_rows


@pytest.mark.slow
def test_a_seeded_sample_is_timed_one_request_at_a_time(tmp_path, tiny_model_dir):
    build = make_build(tmp_path, tiny_model_dir, "lora")
    evaluate = load_script(build / "eval.py", "generated_eval_latency")
    assert evaluate.LATENCY_SAMPLE == 0  # this plan gates no latency: nothing is timed
    tokenizer = evaluate.load_tokenizer(evaluate.base_model_source())
    model = evaluate.load_base()
    fmt = evaluate.load_prompt_format()
    sizes = []
    real_generate = evaluate.generate

    def generate(model, tokenizer, prompt_ids):
        sizes.append(len(prompt_ids))
        return real_generate(model, tokenizer, prompt_ids)

    evaluate.generate = generate
    rows = order_rows(8, 0)
    records = list(evaluate.predict_slice(model, tokenizer, rows, "all", "eval", "base_zero_shot", (), fmt, 4))
    evaluate.LATENCY_SAMPLE = 5
    sizes.clear()
    evaluate.time_requests(model, tokenizer, records, fmt)
    timed = [r for r in records if r["timed"]]
    assert len(timed) == 5 and sizes == [1] * 6  # one warm-up, then five requests, each alone
    assert all(r["latency_ms"] > 0 for r in timed)
    assert len({r["latency_ms"] for r in timed}) == 5  # each request its own clock
    assert all(r["latency_ms"] is None for r in records if not r["timed"])
    again = list(evaluate.predict_slice(model, tokenizer, rows, "all", "eval", "base_zero_shot", (), fmt, 4))
    evaluate.time_requests(model, tokenizer, again, fmt)
    assert [r["id"] for r in again if r["timed"]] == [r["id"] for r in timed]  # the sample is seeded
