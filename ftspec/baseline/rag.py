"""RAG as a build: when the decision is `rag` and the spec declares documents, `ftspec build` renders rag_eval.py
(index, retrieve, generate, predictions.jsonl) instead of training scripts, and `run`/`eval` execute and gate it."""

from __future__ import annotations

import json
import os
from pathlib import Path

RAG_SCRIPT = "rag_eval.py"
SYSTEM = "rag"  # the `model` of the RAG system's predictions; gated where a fine-tuned model would be


def rag_buildable(result) -> bool:
    plan = result.plan
    return plan.decision.approach == "rag" and bool(result.loaded.spec.data.documents) and plan.model is not None


def is_rag_build(folder: Path) -> bool:
    return (folder / RAG_SCRIPT).is_file() and not (folder / "train.py").is_file()


def render_rag(result, plan, folder: Path, version: str) -> dict[str, str]:
    """rag_eval.py and prompt_format.json, paths relative to the build folder."""
    from ftspec.compiler.render import make_environment, prompt_format

    loaded, base = result.loaded, folder.resolve()

    def rel(path: str | None) -> str | None:
        return None if path is None else Path(os.path.relpath(loaded.resolve(path), base)).as_posix()

    data, ev = plan.data, plan.evaluation
    baselines = [str(b["name"]) for b in ev.baselines]
    few_shot = [int(b.get("k", 3)) for b in ev.baselines if b["name"] == "base_few_shot"]
    context = {
        "plan": plan, "version": version, "hp": {"seed": loaded.spec.training.seed},
        "paths": {"train": [rel(p) for p in data.train], "eval": rel(data.eval), "adversarial": rel(data.adversarial),
                  "regression": rel(data.regression), "model": rel(plan.model.path)},
        "documents": [rel(p) for p in loaded.spec.data.documents or []],
        "retrieval": loaded.spec.retrieval.model_dump(mode="json"),
        "generation": {"max_new_tokens": ev.max_new_tokens, "temperature": ev.temperature,
                       "batch_size": ev.batch_size, "max_examples": ev.max_examples, "perplexity": ev.perplexity},
        "few_shot_k": few_shot[0] if few_shot else 0, "model_names": [SYSTEM, *baselines],
    }
    script = make_environment().get_template("rag_eval.py.j2").render(context)
    return {RAG_SCRIPT: script,
            "prompt_format.json": json.dumps(prompt_format(plan), indent=2, ensure_ascii=False) + "\n"}


def system_under_test(rows: list[dict]) -> list[dict]:
    """A RAG run's predictions: the `rag` rows take the fine-tuned model's place in the gates (a run has one system
    under test); rows of any other run are returned as they are."""
    if any(row.get("model") == "finetuned" for row in rows) or not any(row.get("model") == SYSTEM for row in rows):
        return rows
    return [dict(row, model="finetuned") if row.get("model") == SYSTEM else row for row in rows]
