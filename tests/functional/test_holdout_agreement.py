"""`data.holdout`: the rows the audit treats as eval are exactly the rows the generated scripts hold out.
Otherwise `ftspec check` would vouch for a split the training never uses (leakage checks on the wrong rows)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from tests.invoke import invoke

HEAVY = {"torch", "datasets", "peft", "transformers", "trl", "accelerate", "bitsandbytes"}
DATA_FUNCTIONS = {"read_rows", "field", "is_holdout", "split_train_eval"}


def _data_functions(script: Path) -> dict:
    """Execute the generated script's light part: its imports (minus the training stack), constants, and the
    data-reading functions. The real rendered code runs; torch is never imported."""
    tree = ast.parse(script.read_text())
    keep = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if not any(name.split(".")[0] in HEAVY for name in names):
                keep.append(node)
        elif isinstance(node, ast.Assign) or (isinstance(node, ast.FunctionDef) and node.name in DATA_FUNCTIONS):
            keep.append(node)
    namespace = {"__file__": str(script)}
    exec(compile(ast.Module(body=keep, type_ignores=[]), str(script), "exec"), namespace)  # noqa: S102
    return namespace


def test_script_and_audit_hold_out_the_same_rows(tmp_path: Path, tiny_model_dir: Path):
    rows = [{"prompt": f"order {i}: {i % 7} {['red', 'blue', 'green'][i % 3]} mugs for desk {i * 13}",
             "completion": json.dumps({"n": i})} for i in range(120)]
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    spec = tmp_path / "project.yaml"
    spec.write_text(f"""ftspec: 1
name: holdout
requirements: {{objective: o, use_cases: [u], needs: [strict_format],
  tried: [{{approach: few_shot_prompting, scores: {{exact_match: 0.1}}}}]}}
metrics: [{{name: exact_match, threshold: 0.9}}]
data: {{format: prompt_completion, train: train.jsonl, holdout: 0.25, quality: {{min_examples: 10}}}}
models: [{{name: tiny, path: {tiny_model_dir}}}]
training: {{seed: 7}}
""")
    checked = invoke(["check", str(spec), "--json"])
    audit_rows = json.loads(checked.output)["audit"]["stats"]["rows"]
    built = invoke(["build", str(spec)])
    assert built.exit_code == 0, built.output

    train, held = _data_functions(tmp_path / "build" / "train.py")["split_train_eval"]()
    _, held_by_eval = _data_functions(tmp_path / "build" / "eval.py")["split_train_eval"]()
    assert held == held_by_eval
    assert len(held) == audit_rows["eval"] and len(train) == audit_rows["train"]
    from ftspec.data.split import is_holdout

    assert [r["prompt"] for r in held] == [r["prompt"] for i, r in enumerate(rows) if is_holdout(i, 7, 0.25)]
