"""Crafted projects and run folders for the `ftspec eval` tests: a minimal spec in tmp_path, its data files and a
runs/<id>/ folder holding hand-written predictions.jsonl and train_log.jsonl."""

from __future__ import annotations

import json
import math
from pathlib import Path

RUN_ID = "20250101-120000-abcd"


def write_project(root: Path, metrics: list[dict], *, evaluation: dict | None = None,
                  slices: tuple[str, ...] = ()) -> Path:
    """A spec (JSON is YAML) with prompt_completion data and one model; data files for each extra slice."""
    data_dir = root / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    row = json.dumps({"prompt": "2+2?", "completion": "4"}) + "\n"
    data = {"format": "prompt_completion", "train": "data/train.jsonl", "eval": "data/eval.jsonl"}
    for name in ("train", "eval", *slices):
        (data_dir / f"{name}.jsonl").write_text(row * 3)
    for name in slices:
        data[name] = f"data/{name}.jsonl"
    spec = {"ftspec": 1, "name": "crafted", "data": data,
            "models": [{"name": "m", "hub": "org/m", "params": "1M"}], "metrics": metrics}
    if evaluation:
        spec["evaluation"] = evaluation
    path = root / "project.yaml"
    path.write_text(json.dumps(spec, indent=2))
    return path


def rows(model: str, pairs: list[tuple[str, str]], slice_name: str = "all", **extra) -> list[dict]:
    """One predictions row per (reference, prediction) pair, ids eval-0.. in order."""
    return [{"model": model, "slice": slice_name, "id": f"{slice_name}-{i}", "tags": [], "prompt": f"q{i}",
             "reference": ref, "prediction": pred, "latency_ms": 10.0 + i, "error": None, "nll": 2.0,
             "ref_tokens": 4, **extra} for i, (ref, pred) in enumerate(pairs)]


def write_run(root: Path, predictions: list[dict] | str, *, run_id: str = RUN_ID,
              train_log: list[dict] | None = None) -> Path:
    run = root / "runs" / run_id
    run.mkdir(parents=True, exist_ok=True)
    if isinstance(predictions, str):
        (run / "predictions.jsonl").write_text(predictions)
    else:
        # allow_nan: the contract's JSON has no NaN, but a buggy eval.py can write one; eval must catch it
        text = "".join(json.dumps(r, allow_nan=True) + "\n" for r in predictions)
        (run / "predictions.jsonl").write_text(text)
    if train_log is not None:
        (run / "train_log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in train_log))
    return run


def overfitting_log(steps: int = 10, turn: int = 5) -> list[dict]:
    """Train loss falls throughout; eval loss falls until `turn`, then rises."""
    log = [{"type": "start", "time": 0.0, "max_steps": steps * 10, "num_train_rows": 40, "resumed_from": None}]
    for k in range(1, steps + 1):
        step = k * 10
        log.append({"type": "train", "step": step, "epoch": k / 4, "loss": 2.0 * math.exp(-k / 3),
                    "learning_rate": 2e-4, "tokens_per_second": 1000.0, "time": float(k)})
        eval_loss = 2.0 - 0.2 * min(k, turn) + 0.15 * max(0, k - turn)
        log.append({"type": "eval", "step": step, "epoch": k / 4, "eval_loss": eval_loss, "time": k + 0.5})
    log.append({"type": "end", "time": 99.0, "status": "completed", "global_step": steps * 10,
                "early_stopped": False})
    return log
