"""What `ftspec build` renders for retrieval: rag_eval.py alone for a `rag` decision (no training scripts), and
beside the training scripts for fine-tuning plus RAG. The scripts compile; no model is loaded here."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from tests.conftest import SPECS
from tests.invoke import invoke


def faq_copy(tmp_path: Path) -> Path:
    project = tmp_path / "support-faq"
    shutil.copytree(SPECS / "support-faq", project, ignore=shutil.ignore_patterns("build", "runs", "baselines"))
    return project / "project.yaml"


def built(spec: Path, *extra: str) -> dict:
    result = invoke(["build", spec, "--json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_rag_decision_builds_rag_eval_only(tmp_path: Path):
    spec = faq_copy(tmp_path)
    refused = invoke(["build", spec])  # nothing measured yet: the baseline prerequisite blocks the build
    assert refused.exit_code == 2 and "ftspec baseline" in refused.output
    built(spec, "--force")
    folder = spec.parent / "build"
    assert (folder / "rag_eval.py").is_file() and not (folder / "train.py").exists()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["commands"] == {"eval": "python rag_eval.py --output-dir RUN_DIR"} and manifest["method"] is None
    script = (folder / "rag_eval.py").read_text()
    compile(script, "rag_eval.py", "exec")
    assert "DOCUMENTS = ['../data/kb.jsonl']" in script and "'k': 3" in script
    assert "ftspec" not in re.findall(r"^(?:from|import) (\w+)", script, re.M)


def test_fine_tuning_and_rag_builds_both(tmp_path: Path):
    spec = faq_copy(tmp_path)
    text = spec.read_text().replace("needs: [new_knowledge, citations]", "needs: [new_knowledge, tone_style]")
    text = text.replace("  constraints:", "  tried: [{approach: rag, scores: {rouge_l: 0.1}}]\n  constraints:")
    spec.write_text(text)
    built(spec)
    folder = spec.parent / "build"
    for name in ("train.py", "eval.py", "rag_eval.py"):
        compile((folder / name).read_text(), name, "exec")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["commands"]["rag_eval"] == "python rag_eval.py --output-dir RUN_DIR-rag --model-dir RUN_DIR/model"
    assert "rag_eval.py" in manifest["files"]
