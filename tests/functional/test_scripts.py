"""The generated train.py and eval.py really run, on the tiny local Llama (CPU): each method, DDP over gloo,
resume after a checkpoint cut short, and predictions for the model and both baselines."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ftspec.compiler.render import render_build

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "golden"))
from golden_plans import make_paths, make_plan  # noqa: E402

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1"}
COLOURS, ITEMS = ("red", "blue", "green", "black"), ("mug", "shirt", "lamp", "sock")


def order_rows(count: int, offset: int) -> list[dict]:
    rows = []
    for i in range(count):
        colour, item, quantity = COLOURS[(i + offset) % 4], ITEMS[(i * 3 + offset) % 4], (i + offset) % 5 + 1
        rows.append({"prompt": f"I want {quantity} {colour} {item}s please",
                     "completion": json.dumps({"item": item, "colour": colour, "quantity": quantity})})
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


def make_build(root: Path, model_dir: Path, method: str, **options) -> Path:
    """A project folder with data and a build/ rendered from a hand-built plan (the model is used in place)."""
    train, evaluation = order_rows(20, 0), order_rows(4, 1)  # 20 train rows: 18 train, 2 form the dev split
    if method == "dpo":
        train = [{"prompt": r["prompt"], "chosen": r["completion"], "rejected": "{}"} for r in train]
        evaluation = [{"prompt": r["prompt"], "chosen": r["completion"], "rejected": "{}"} for r in evaluation]
    write_jsonl(root / "data" / "train.jsonl", train)
    write_jsonl(root / "data" / "eval.jsonl", evaluation)
    write_jsonl(root / "data" / "adversarial.jsonl", [dict(r, tags=["short"]) for r in evaluation[:2]])
    build = root / "build"
    build.mkdir()
    plan = make_plan(method, **options)
    for name, text in render_build(plan, make_paths(plan, model=os.path.relpath(model_dir, build))).items():
        (build / name).write_text(text)
    return build


def run(build: Path, *argv: str, timeout: int = 300) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, *argv], cwd=build, env=ENV, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def train_log(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "train_log.jsonl").read_text().splitlines()]


def load_script(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize("method,weights", [("full", "model.safetensors"), ("lora", "adapter_model.safetensors"),
                                            ("qlora", "adapter_model.safetensors"),
                                            ("dpo", "adapter_model.safetensors")])
def test_train_runs_a_few_steps(tmp_path, tiny_model_dir, method, weights):
    build = make_build(tmp_path, tiny_model_dir, method, kind="template" if method == "qlora" else "chat_template")
    run_dir = tmp_path / "run"
    run(build, "train.py", "--output-dir", str(run_dir), "--max-steps", "2")
    log = train_log(run_dir)
    assert [r["type"] for r in log] == ["start", "train", "eval", "train", "eval", "end"]
    assert log[0]["num_train_rows"] == 18 and log[0]["num_dev_rows"] == 2
    assert log[0]["max_steps"] == 2 and log[0]["resumed_from"] is None
    assert all(r["loss"] > 0 and r["tokens_per_second"] for r in log if r["type"] == "train")
    assert log[-1]["status"] == "completed" and log[-1]["global_step"] == 2
    assert (run_dir / "model" / weights).is_file() and (run_dir / "model" / "tokenizer.json").is_file()
    if method == "qlora":
        adapter = json.loads((run_dir / "model" / "adapter_config.json").read_text())
        assert adapter["peft_type"] == "LORA" and adapter["r"] == 8


@pytest.mark.slow
def test_eval_writes_predictions_for_the_model_and_both_baselines(tmp_path, tiny_model_dir):
    build = make_build(tmp_path, tiny_model_dir, "lora")
    run_dir = tmp_path / "run"
    run(build, "train.py", "--output-dir", str(run_dir), "--max-steps", "1")
    run(build, "eval.py", "--output-dir", str(run_dir), "--batch-size", "3")
    records = [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text().splitlines()]
    assert not (run_dir / "predictions.jsonl.partial").exists()
    by_model = {name: [r for r in records if r["model"] == name]
                for name in ("finetuned", "base_zero_shot", "base_few_shot")}
    for name, rows in by_model.items():
        assert [(r["slice"], r["id"]) for r in rows] == [("all", f"eval-{i}") for i in range(4)] + \
            [("adversarial", f"adversarial-{i}") for i in range(2)], name
        assert all(r["error"] is None and isinstance(r["prediction"], str) for r in rows)
        assert all(r["latency_ms"] is None and r["timed"] is False for r in rows)  # the plan gates no latency
        assert all(r["nll"] > 0 and r["ref_tokens"] > 0 for r in rows)  # the plan asks for perplexity
    assert by_model["finetuned"][4]["tags"] == ["short"]
    eval_rows = order_rows(4, 1)
    assert [r["reference"] for r in by_model["finetuned"][:4]] == [r["completion"] for r in eval_rows]
    # few-shot prompts hold 2 training examples before the question; zero-shot ones hold none
    zero, few = by_model["base_zero_shot"][0]["prompt"], by_model["base_few_shot"][0]["prompt"]
    assert few.endswith(zero[len("<s>"):]) and few.count("<|user|>") == 3 and zero.count("<|user|>") == 1


@pytest.mark.slow
def test_two_process_ddp_over_gloo(tmp_path, tiny_model_dir):
    build = make_build(tmp_path, tiny_model_dir, "lora", mode="ddp", processes=2, use_cpu=True)
    run_dir = tmp_path / "run"
    run(build, "-m", "accelerate.commands.launch", "--config_file", "accelerate.yaml", "train.py",
        "--output-dir", str(run_dir), "--max-steps", "2")
    log = train_log(run_dir)
    first = next(r for r in log if r["type"] == "train")
    # each of the 2 processes takes 9 of the 18 training rows, 2 a step: 5 steps an epoch (one process alone: 9)
    assert first["epoch"] == pytest.approx(1 / 5)
    assert log[-1]["status"] == "completed" and (run_dir / "model" / "adapter_model.safetensors").is_file()


@pytest.mark.slow
def test_resume_skips_a_checkpoint_cut_short(tmp_path, tiny_model_dir):
    build = make_build(tmp_path, tiny_model_dir, "lora", eval_steps=1)
    run_dir = tmp_path / "run"
    run(build, "train.py", "--output-dir", str(run_dir), "--max-steps", "2")
    checkpoints = run_dir / "checkpoints"
    (checkpoints / "checkpoint-2" / "trainer_state.json").unlink()  # as if killed (-9) while saving
    run(build, "train.py", "--output-dir", str(run_dir), "--max-steps", "3", "--resume")
    starts = [r for r in train_log(run_dir) if r["type"] == "start"]
    assert starts[-1]["resumed_from"] == str(checkpoints / "checkpoint-1")
    assert train_log(run_dir)[-1]["global_step"] == 3
    assert (checkpoints / "incomplete-checkpoint-2").is_dir()


@pytest.mark.slow
@pytest.mark.parametrize("kind,data_format", [("chat_template", "prompt_completion"), ("template", "instruction"),
                                              ("template", "prompt_completion"), ("chat_template", "chat")])
def test_eval_prompt_is_the_training_text_minus_the_target(tmp_path, tiny_model_dir, kind, data_format):
    """The check the prompt-format bug needs: for each training row, the tokens eval.py feeds the model are exactly
    the start of the tokens train.py trains on, and the rest is the target alone."""
    build = make_build(tmp_path, tiny_model_dir, "lora", kind=kind, data_format=data_format,
                       system_prompt="Reply with JSON only.")
    rows = [{"instruction": "Parse the order", "input": "2 red mugs", "output": '{"q": 2}'},
            {"instruction": "Say hi", "input": "", "output": "hi"}] if data_format == "instruction" else \
        [{"messages": [{"role": "user", "content": "2 red mugs"}, {"role": "assistant", "content": "{}"},
                       {"role": "user", "content": "3 blue"}, {"role": "assistant", "content": '{"q": 3}'}]}] \
        if data_format == "chat" else order_rows(3, 0)
    write_jsonl(tmp_path / "data" / "train.jsonl", rows)
    train = load_script(build / "train.py", "generated_train")
    evaluate = load_script(build / "eval.py", "generated_eval")
    tokenizer = train.load_tokenizer()
    fmt = train.load_prompt_format()
    dataset = train.to_dataset(train.split_train_eval()[0], tokenizer, fmt)
    for row, trained in zip(rows, dataset, strict=True):
        prompt = evaluate.build_prompt(row, tokenizer, fmt)
        eval_ids = evaluate.encode_prompt(tokenizer, prompt, fmt)
        start = trained["completion_mask"].index(1)
        assert trained["input_ids"][:start] == eval_ids
        target = tokenizer.decode(trained["input_ids"][start:], skip_special_tokens=True)
        assert target == evaluate.target_text(row)
        assert "Reply with JSON only." in prompt
        if kind == "chat_template":
            conversation = evaluate.prompt_messages(row, fmt) + [{"role": "assistant",
                                                                  "content": evaluate.target_text(row)}]
            full_text = tokenizer.apply_chat_template(conversation, tokenize=False)
            assert full_text == prompt + evaluate.completion_text(row, tokenizer, fmt, prompt)


@pytest.mark.slow
def test_a_failed_generation_is_recorded_not_fatal(tmp_path, tiny_model_dir):
    build = make_build(tmp_path, tiny_model_dir, "lora")
    evaluate = load_script(build / "eval.py", "generated_eval_errors")
    tokenizer = evaluate.load_tokenizer(evaluate.base_model_source())
    model = evaluate.load_base()
    fmt = evaluate.load_prompt_format()
    real_generate = evaluate.generate

    def generate(model, tokenizer, prompt_ids):
        if any(ids == evaluate.encode_prompt(tokenizer, prompts[1], fmt) for ids in prompt_ids):
            raise RuntimeError("CUDA out of memory (simulated)")
        return real_generate(model, tokenizer, prompt_ids)

    rows = order_rows(3, 0)
    prompts = [evaluate.build_prompt(row, tokenizer, fmt) for row in rows]
    evaluate.generate = generate
    records = list(evaluate.predict_slice(model, tokenizer, rows, "all", "eval", "base_zero_shot", (), fmt, 3))
    assert [r["error"] for r in records] == [None, "RuntimeError: CUDA out of memory (simulated)", None]
    assert records[1]["prediction"] is None and isinstance(records[0]["prediction"], str)
