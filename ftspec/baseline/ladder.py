"""The ladder's generation: render baseline.py for one model into its baselines/<id>/ folder and run it there as
a subprocess (torch lives only in the script), one predictions.jsonl per rung."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from ftspec.compiler.pipeline import CheckResult
from ftspec.errors import FtspecError
from ftspec.spec.models import ModelSpec

RUNGS = ("zero_shot", "few_shot", "retrieved_few_shot", "rag")
RUNG_MODELS = {"zero_shot": "base_zero_shot", "few_shot": "base_few_shot",
               "retrieved_few_shot": "base_retrieved_few_shot", "rag": "base_rag"}
DEFAULT_K = 3
SCRIPT = "baseline.py"
LOG = Path("logs") / "baseline.log"


def rung_label(rung: str, k: int | None = None) -> str:
    shots = f" (k={k})" if k else ""
    return {"zero_shot": "zero-shot", "few_shot": f"few-shot{shots}",
            "retrieved_few_shot": f"retrieved few-shot{shots}", "rag": "RAG"}.get(rung, rung)


def few_shot_k(result: CheckResult) -> int:
    """k from evaluation.baselines' base_few_shot, else the default."""
    found = [b.k for b in result.loaded.spec.evaluation.baselines if b.name == "base_few_shot"]
    return found[0] if found else DEFAULT_K


def rungs_for(result: CheckResult) -> list[str]:
    return [r for r in RUNGS if r != "rag" or result.loaded.spec.data.documents]


def render_script(result: CheckResult, index: int, model: ModelSpec, folder: Path, rungs: list[str]) -> dict[str, str]:
    """baseline.py and prompt_format.json for one candidate model, paths relative to `folder`."""
    from ftspec.compiler.build import ftspec_version
    from ftspec.compiler.decide import _prompt_format, _resolve_model
    from ftspec.compiler.render import make_environment, prompt_format

    loaded, plan = result.loaded, result.plan
    info = _resolve_model(loaded, index, model, [])
    model_plan = plan.model_copy(update={"model": info.chosen, "prompt_format": _prompt_format(loaded, info, [])})
    base = folder.resolve()

    def rel(path: str | None) -> str | None:
        return None if path is None else Path(os.path.relpath(loaded.resolve(path), base)).as_posix()

    data, ev = plan.data, plan.evaluation
    context = {
        "project": plan.project, "version": ftspec_version(), "plan": model_plan, "model_name": model.name,
        "paths": {"train": [rel(p) for p in data.train], "eval": rel(data.eval), "adversarial": rel(data.adversarial),
                  "regression": rel(data.regression), "model": rel(model.path)},
        "hp": {"seed": loaded.spec.training.seed}, "few_shot_k": few_shot_k(result), "rungs": list(rungs),
        "documents": [rel(p) for p in loaded.spec.data.documents or []],
        "retrieval": loaded.spec.retrieval.model_dump(mode="json"),
        "generation": {"max_new_tokens": ev.max_new_tokens, "temperature": ev.temperature,
                       "batch_size": ev.batch_size, "max_examples": ev.max_examples, "perplexity": ev.perplexity},
    }
    script = make_environment().get_template("baseline.py.j2").render(context)
    fmt = json.dumps(prompt_format(model_plan), indent=2, ensure_ascii=False) + "\n"
    return {SCRIPT: script, "prompt_format.json": fmt}


def generate(folder: Path, rungs: list[str]) -> dict[str, float]:
    """Run baseline.py in `folder`; seconds per rung, from the lines it prints."""
    from ftspec.runtime.launch import run_child

    log = folder / LOG
    done = run_child([sys.executable, SCRIPT, "--output-dir", ".", "--rungs", ",".join(rungs)], cwd=folder,
                     log_path=log)
    if done.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
        raise FtspecError(f"baseline.py failed (exit {done.returncode}); see {log}:\n  " + "\n  ".join(tail))
    seconds = {}
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith('{"rung"'):
            row = json.loads(line)
            seconds[row["rung"]] = row["seconds"]
    return seconds
