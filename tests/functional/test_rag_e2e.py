"""The support-faq example as RAG, end to end on CPU: the ladder measures every rung, only RAG passes the retrieval
gates, so the decision is `rag`; `build` renders rag_eval.py, `run` executes it, `eval` gates it.

Qwen (the example's model) is not downloaded here: the demo's tiny local model takes its place, and the gates are
the example's retrieval gates (recall@k, MRR), which a model this small can be held to; answer-quality gates
(contains, rouge_l) need a real model."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import SPECS, run_cli


def ok(done, code: int = 0):
    assert done.returncode == code, f"exit {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.mark.slow
def test_support_faq_ladder_chooses_rag_and_it_is_built_run_and_gated(tmp_path: Path, demo_model_dir: Path):
    project = tmp_path / "support-faq"
    shutil.copytree(SPECS / "support-faq", project, ignore=shutil.ignore_patterns("build", "runs", "baselines"))
    spec = project / "project.yaml"
    text = re.sub(r"(?m)^  - \{name: (contains|rouge_l).*\n", "", spec.read_text(encoding="utf-8"))
    text = re.sub(r"(?m)^  - \{name: qwen-0.5b.*$", f"  - {{name: tiny-llama, path: {demo_model_dir}}}", text)
    spec.write_text(text + "\nevaluation: {generation: {max_new_tokens: 16}}\n", encoding="utf-8")

    record = json.loads(ok(run_cli("baseline", "project.yaml", "--json", cwd=project)).stdout)["baselines"][0]
    assert {name: rung["passed"] for name, rung in record["rungs"].items()} == \
        {"zero_shot": False, "few_shot": False, "retrieved_few_shot": False, "rag": True}
    rag_rows = [json.loads(line) for line in
                (project / record["folder"] / "rag" / "predictions.jsonl").read_text().splitlines()]
    assert all(len(row["retrieved"]) == 3 and row["gold_documents"] for row in rag_rows)

    decision = json.loads(ok(run_cli("check", "project.yaml", "--json", cwd=project)).stdout)["decision"]
    assert decision["approach"] == "rag"
    assert any("RAG passes every gate" in r["text"] for r in decision["reasons"])

    built = json.loads(ok(run_cli("build", "project.yaml", "--json", cwd=project)).stdout)
    assert (project / "build" / "rag_eval.py").is_file() and not (project / "build" / "train.py").exists()
    assert "rag_eval.py" in json.dumps(built)
    ok(run_cli("run", "project.yaml", cwd=project))
    report = json.loads(ok(run_cli("eval", "project.yaml", "--json", cwd=project)).stdout)
    assert report["verdict"] == "pass"
    assert {g["metric"] for g in report["gates"]} == {"recall_at_k", "mrr"}
    assert all(g["n"] == len(rag_rows) for g in report["gates"])
