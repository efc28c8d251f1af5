"""`check`'s verdict agrees with what `build` will do, budgets and lengths are weighed (issue 12)."""

from __future__ import annotations

import json

from ftspec.compiler.pipeline import check_project
from tests.invoke import invoke
from tests.unit.compiler.test_decide_matrix import BASE, dump, merge

# prompting was tried and plateaued (declared), so the decision is fine-tuning without a measured baseline
FINE_TUNE = {"requirements": {"needs": ["strict_format"],
                              "tried": [{"approach": "few_shot_prompting", "scores": {"exact_match": 0.2}}]}}


def project(tmp_path, changes: dict, rows: int = 60) -> object:
    spec = merge(merge(BASE, FINE_TUNE), changes)
    for name, count in (("train.jsonl", rows), ("eval.jsonl", 20)):
        lines = [json.dumps({"prompt": f"question {name} {i}", "completion": f"answer {i}"}) for i in range(count)]
        (tmp_path / name).write_text("\n".join(lines) + "\n")
    path = tmp_path / "project.yaml"
    path.write_text(dump(spec))
    return path


def check_json(path) -> tuple[int, dict]:
    result = invoke(["check", path, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_a_ready_project_checks_ok(tmp_path):
    code, body = check_json(project(tmp_path, {}))
    assert (code, body["ok"], body["blocking"]) == (0, True, [])


def test_an_unmet_blocking_prerequisite_fails_check_as_build_refuses(tmp_path):
    path = project(tmp_path, {"training": {"batch_size": 4096}})
    code, body = check_json(path)
    assert code == 2 and body["ok"] is False and body["exit_code"] == 2
    assert [b["name"] for b in body["blocking"]] == ["fits_budget"]
    built = invoke(["build", path])
    assert built.exit_code == 2 and "fits_budget" in built.stderr
    forced = invoke(["build", path, "--force", "--json"])
    assert forced.exit_code == 0
    assert json.loads((tmp_path / "build" / "manifest.json").read_text())["forced"] is True


def test_missing_use_cases_block_check(tmp_path):
    spec = merge(BASE, FINE_TUNE)
    del spec["requirements"]["use_cases"]
    path = project(tmp_path, {})
    path.write_text(dump(spec))
    code, body = check_json(path)
    assert code == 2 and body["ok"] is False
    assert body["blocking"][0]["name"] == "use_cases" and "use_cases" in body["blocking"][0]["hint"]
    human = invoke(["check", path])
    assert human.exit_code == 2 and "blocking: use_cases" in human.stdout


def test_check_result_names_what_blocks(tmp_path):
    result = check_project(project(tmp_path, {"training": {"batch_size": 4096}}))
    assert [b["name"] for b in result.blocking] == ["fits_budget"] and int(result.exit_code) == 2


def tiny_project(tmp_path, tiny_model_dir, changes: dict, rows: list[dict] | None = None):
    """A project on the tiny Llama (max_position_embeddings 512), linked into the project folder."""
    (tmp_path / "models").mkdir(exist_ok=True)
    link = tmp_path / "models" / "tiny"
    if not link.exists():
        link.symlink_to(tiny_model_dir, target_is_directory=True)
    path = project(tmp_path, merge({"models": [{"name": "tiny", "path": "models/tiny"}]}, changes))
    if rows is not None:
        (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def long_row(tiny_model_dir, at_least: int) -> tuple[dict, int]:
    """A row whose prompt and completion take at least `at_least` tokens, and its length as the audit counts it."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tiny_model_dir / "tokenizer.json"))
    words = ["order", "two", "red", "shirts", "please"]
    count, n = 0, at_least // 2
    while count < at_least:
        n += 10
        row = {"prompt": " ".join(words[i % 5] for i in range(n)), "completion": "{}"}
        count = len(tokenizer.encode(f"{row['prompt']}\n{row['completion']}").ids)
    return row, count


def test_rows_longer_than_the_models_context_are_too_long(tmp_path, tiny_model_dir):
    row, length = long_row(tiny_model_dir, 900)
    rows = [{"prompt": f"question {i}", "completion": f"answer {i}"} for i in range(60)] + [row]
    code, body = check_json(tiny_project(tmp_path, tiny_model_dir, {}, rows))
    too_long = next(f for f in body["audit"]["findings"] if f["check"] == "too_long")
    assert too_long["count"] == 1 and too_long["rows"][0]["line"] == 61
    assert too_long["rows"][0]["note"] == f"{length} tokens for tiny (limit 512)"
    assert body["audit"]["stats"]["max_tokens"] == 512 == body["plan"]["hyperparameters"]["max_seq_length"]


def test_the_limit_is_the_planned_max_seq_length(tmp_path, tiny_model_dir):
    row, length = long_row(tiny_model_dir, 300)
    rows = [{"prompt": f"question {i}", "completion": f"answer {i}"} for i in range(60)] + [row]
    code, body = check_json(tiny_project(tmp_path, tiny_model_dir, {"training": {"max_seq_length": 256}}, rows))
    too_long = next(f for f in body["audit"]["findings"] if f["check"] == "too_long")
    assert too_long["rows"][0]["note"] == f"{length} tokens for tiny (limit 256)"


def test_max_seq_length_past_the_context_window_is_located(tmp_path, tiny_model_dir):
    path = tiny_project(tmp_path, tiny_model_dir, {"training": {"max_seq_length": 1024}})
    result = invoke(["check", path])
    assert result.exit_code == 2
    assert "training.max_seq_length  max_seq_length 1,024 is past `tiny`'s context window of 512 tokens" \
        in result.stderr
    assert f"{path}:" in result.stderr and "hint: use 512 or less" in result.stderr


def few_shot_rows(tiny_model_dir, tokens: int) -> list[dict]:
    """60 distinct training rows of about `tokens` tokens each: each fits the context, three together do not."""
    row, _ = long_row(tiny_model_dir, tokens)
    return [{"prompt": f"{i} {row['prompt']} {i}", "completion": f"answer {i}"} for i in range(60)]


def test_few_shot_prompts_past_the_context_are_warned_at_check(tmp_path, tiny_model_dir):
    rows = few_shot_rows(tiny_model_dir, 160)
    path = tiny_project(tmp_path, tiny_model_dir, {}, rows)
    code, body = check_json(path)
    assert code == 0 and body["ok"] is True  # a warning: the build may go ahead
    [warning] = body["warnings"]
    assert warning["path"] == "evaluation.baselines[1]" and warning["file"] == str(path)
    longest = int(warning["message"].split(" reach ")[1].split(" tokens")[0].replace(",", ""))
    assert longest > 3 * 160 and longest + 128 > 512
    assert "context window of 512 tokens" in warning["message"] and "`k`" in warning["hint"]
    human = invoke(["check", path])
    assert "warning: " in human.stdout and "evaluation.baselines[1]  base_few_shot prompts reach" in human.stdout


def test_few_shot_prompts_are_measured_as_the_eval_builds_them(tmp_path, tiny_model_dir):
    """The figure is the eval's own: the same k rows (random.Random(seed).sample), under the model's chat template
    as transformers renders it. With the window one token short of that prompt, check warns with that figure."""
    import random

    from transformers import AutoTokenizer  # the reference: what eval.py itself runs

    rows = few_shot_rows(tiny_model_dir, 120)
    path = tiny_project(tmp_path, tiny_model_dir, {}, rows)
    shots = random.Random(42).sample(rows, 2)
    evals = [json.loads(line) for line in (tmp_path / "eval.jsonl").read_text().splitlines()]
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    lengths = []
    for row in evals:
        messages = [m for s in shots for m in ({"role": "user", "content": s["prompt"]},
                                               {"role": "assistant", "content": s["completion"]})]
        text = tokenizer.apply_chat_template([*messages, {"role": "user", "content": row["prompt"]}], tokenize=False,
                                             add_generation_prompt=True)
        lengths.append(len(tokenizer(text, add_special_tokens=False)["input_ids"]))
    spec = {"models": [{"name": "tiny", "path": "models/tiny", "context_window": max(lengths) - 1}],
            "evaluation": {"baselines": [{"name": "base_few_shot", "k": 2}]}}
    path.write_text(dump(merge(merge(BASE, FINE_TUNE), spec)))
    [warning] = check_project(path).warnings
    assert f"reach {max(lengths):,} tokens (2 training examples" in warning.message
    assert f"context window of {max(lengths) - 1:,} tokens" in warning.message
    assert warning.path == "evaluation.baselines[0]"


def test_few_shot_prompts_that_fit_are_not_warned(tmp_path, tiny_model_dir):
    rows = few_shot_rows(tiny_model_dir, 160)
    spec = {"evaluation": {"baselines": [{"name": "base_zero_shot"}, {"name": "base_few_shot", "k": 1}]}}
    assert check_project(tiny_project(tmp_path, tiny_model_dir, spec, rows)).warnings == []


def test_few_shot_prompts_without_a_chat_template_follow_the_prompt_template(tmp_path, tiny_model_dir):
    """No chat template: eval.py's build_prompt joins each shot's filled template, its answer and a blank line."""
    import random
    import shutil

    from tokenizers import Tokenizer

    plain = tmp_path / "models" / "tiny"
    shutil.copytree(tiny_model_dir, plain, ignore=shutil.ignore_patterns("chat_template.jinja", "*.safetensors"))
    rows = few_shot_rows(tiny_model_dir, 200)
    path = tiny_project(tmp_path, tiny_model_dir, {"data": {"prompt_template": "Q: {prompt}\nA: "}}, rows)
    [warning] = check_project(path).warnings
    shots = random.Random(42).sample(rows, 3)
    prefix = "".join(f"Q: {s['prompt']}\nA: {s['completion']}\n\n" for s in shots)
    evals = [json.loads(line) for line in (tmp_path / "eval.jsonl").read_text().splitlines()]
    tokenizer = Tokenizer.from_file(str(plain / "tokenizer.json"))
    longest = max(len(tokenizer.encode(f"{prefix}Q: {row['prompt']}\nA: ").ids) for row in evals)
    assert f"reach {longest:,} tokens (3 training examples" in warning.message


def test_a_budget_below_the_training_estimate_is_an_unmet_prerequisite(tmp_path):
    from ftspec.compiler.cost import estimate_training

    path = project(tmp_path, {"requirements": {"constraints": {"budget_usd": 0.1, "gpu_hour_usd": 3}}})
    code, body = check_json(path)
    hp = body["plan"]["hyperparameters"]
    estimate = estimate_training(body["plan"]["model"]["params"], 60 * hp["max_seq_length"] / 2, hp["epochs"], 3)
    assert estimate.usd > 0.1
    assert code == 2 and [b["name"] for b in body["blocking"]] == ["budget"]
    assert body["blocking"][0]["hint"].startswith(
        f"training is estimated at ${estimate.usd:,.2f} ({estimate.gpu_hours:.3g} GPU-hours at $3.00/h), over the "
        "budget of $0.10")
    human = invoke(["check", path])
    assert "blocking: budget: training is estimated at $" in human.stdout


def test_a_budget_above_the_estimate_is_met(tmp_path):
    code, body = check_json(project(tmp_path, {"requirements": {"constraints": {"budget_usd": 1000}}}))
    budget = next(p for p in body["decision"]["prerequisites"] if p["name"] == "budget")
    assert code == 0 and budget["met"] and "within the budget of $1,000.00" in budget["hint"]
    assert "$2.00/h assumed; set constraints.gpu_hour_usd" in budget["hint"]


def test_payback_reads_in_sensible_units():
    from ftspec.compiler.cost import payback_label

    assert payback_label(0.00203) == "1 hour"  # 0.00203 months: 1.46 hours
    assert payback_label(0.0001) == "under an hour"
    assert payback_label(0.05) == "36 hours"
    assert payback_label(0.5) == "15 days"
    assert payback_label(3.5) == "3.5 months"


def test_the_cost_reason_never_says_a_fraction_of_a_month(tmp_path):
    heavy = {"requests_per_day": 2_000_000, "prompt_tokens": 3000, "completion_tokens": 50}
    path = project(tmp_path, {"requirements": {"needs": ["reduce_prompt_cost"], "traffic": heavy}})
    reasons = [r["text"] for r in check_json(path)[1]["decision"]["reasons"] if "pays for itself" in r["text"]]
    assert reasons and reasons[0].endswith("pays for itself in under an hour")  # was "in 7.41e-06 months"


def test_answers_as_long_as_the_context_window_are_located(tmp_path, tiny_model_dir):
    path = tiny_project(tmp_path, tiny_model_dir, {"evaluation": {"generation": {"max_new_tokens": 600}}})
    result = invoke(["check", path])
    assert result.exit_code == 2
    assert ("evaluation.generation.max_new_tokens  max_new_tokens 600 fills `tiny`'s whole context window of 512 "
            "tokens") in result.stderr


def test_blocking_data_problems_are_named_once(tmp_path):
    path = project(tmp_path, {})
    with (tmp_path / "train.jsonl").open("a") as handle:
        handle.write("{not json\n")
    code, body = check_json(path)
    assert code == 2 and body["ok"] is False
    assert body["blocking"] == [{"name": "clean_data", "hint": "the data audit found blocking problems (parse_error)"}]


def test_a_chat_template_that_never_ends_costs_check_at_most_its_time_limit(tmp_path, tiny_model_dir):
    """A model folder is input too: a template looping 10^10 times falls back to the lower bound within the limit."""
    import shutil
    import time

    from ftspec.compiler import fewshot

    folder = tmp_path / "models" / "tiny"
    shutil.copytree(tiny_model_dir, folder, ignore=shutil.ignore_patterns("*.safetensors"))
    (folder / "chat_template.jinja").write_text(  # its literal text is long enough that only rendering can tell
        "{% if false %}" + "many words " * 500 + "{% endif %}"
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
        "{% for m in messages %}{{ m['content'] }}{% endfor %}")
    path = tiny_project(tmp_path, tiny_model_dir, {"models": [{"name": "tiny", "path": "models/tiny",
                                                               "context_window": 1024}]},
                        few_shot_rows(tiny_model_dir, 200))
    started = time.perf_counter()
    result = check_project(path)
    assert time.perf_counter() - started < fewshot.RENDER_SECONDS + 10  # generous: a shared, loaded machine
    assert result.warnings == []  # the turns alone (~650 tokens) fit 1,024; the template's share stays unknown


def test_the_cost_comparison_and_the_budget_price_the_same_training(tmp_path):
    """Both use the plan's epochs (2 for 1k-10k rows), so one check never shows two training figures."""
    heavy = {"requests_per_day": 2_000_000, "prompt_tokens": 3000, "completion_tokens": 50}
    spec = {"requirements": {"needs": ["reduce_prompt_cost"], "traffic": heavy,
                             "constraints": {"budget_usd": 1000, "gpu_hour_usd": 2.5}},
            "models": [{"name": "m70", "hub": "meta-llama/Llama-2-70b-hf", "params": "70B"}]}
    code, body = check_json(project(tmp_path, spec, rows=3000))
    assert body["plan"]["hyperparameters"]["epochs"] == 2
    budget = next(p for p in body["decision"]["prerequisites"] if p["name"] == "budget")
    assert f"${body['plan']['cost']['training_usd']:,.2f} (" in budget["hint"]
