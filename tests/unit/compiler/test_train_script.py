"""The rendered train.py, without training: `--help` answers before the training libraries load, and its dev split
is the one the plan counts."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from ftspec.compiler.devsplit import DEV_MAX_ROWS, DEV_MIN_TRAIN_ROWS, DEV_SHARE, dev_size

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
SCRIPTS = sorted(GOLDEN.glob("*/train.py"))
HEAVY = ("torch", "transformers", "peft", "trl", "datasets", "accelerate", "bitsandbytes")

HELP_PROBE = """
import contextlib, io, json, runpy, sys
sys.argv = [sys.argv[1], "--help"]
out = io.StringIO()
code = None
with contextlib.redirect_stdout(out):
    try:
        runpy.run_path(sys.argv[0], run_name="__main__")
    except SystemExit as stop:
        code = stop.code
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {heavy})
print(json.dumps({{"code": code, "help": out.getvalue(), "heavy": heavy}}))
"""


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.parent.name for p in SCRIPTS])
def test_help_answers_before_the_training_libraries_are_imported(script):
    probe = HELP_PROBE.format(heavy=set(HEAVY))
    done = subprocess.run([sys.executable, "-c", probe, str(script)], capture_output=True, text=True, check=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["code"] == 0
    assert "--output-dir" in report["help"] and "Fine-tune the base model" in report["help"]
    assert report["heavy"] == []


def _functions(script: Path, names: tuple[str, ...]) -> dict:
    """The named top-level functions of a generated script, run against its own constants (no imports of it)."""
    tree = ast.parse(script.read_text(encoding="utf-8"))
    keep = [node for node in tree.body
            if (isinstance(node, ast.FunctionDef) and node.name in names)
            or (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id in ("SEED", "DEV_SHARE", "DEV_MAX_ROWS", "DEV_MIN_TRAIN_ROWS"))]
    scope: dict = {"zlib": zlib}
    exec(compile(ast.Module(body=keep, type_ignores=[]), str(script), "exec"), scope)
    return scope


@pytest.mark.parametrize("rows", [0, DEV_MIN_TRAIN_ROWS - 1, DEV_MIN_TRAIN_ROWS, 64, 400, 56, 20_000])
def test_train_script_carves_the_dev_split_the_plan_counts(rows):
    scope = _functions(GOLDEN / "spec-demo" / "train.py", ("dev_size", "split_dev"))
    assert (scope["DEV_SHARE"], scope["DEV_MAX_ROWS"]) == (DEV_SHARE, DEV_MAX_ROWS)
    train, dev = scope["split_dev"](list(range(rows)))
    assert len(dev) == dev_size(rows) == scope["dev_size"](rows)
    assert sorted(train + dev) == list(range(rows)) and not set(train) & set(dev)
    assert scope["split_dev"](list(range(rows))) == (train, dev)  # seeded: the same rows every time


def test_dev_split_sizes():
    assert dev_size(DEV_MIN_TRAIN_ROWS - 1) == 0  # too few rows to spare: all train
    assert dev_size(400) == 40 and dev_size(56) == 6
    assert dev_size(10**6) == DEV_MAX_ROWS


def test_the_demo_plan_records_its_dev_split(demo_model_dir):
    from ftspec.compiler.pipeline import check_project
    from tests.conftest import DEMO_SPEC

    plan = check_project(DEMO_SPEC).plan
    split = plan.data.dev_split
    assert (split.rows, split.of_rows, split.share) == (40, 400, DEV_SHARE)
    text = next(r.text for r in plan.decision.reasons if r.text.startswith("model selection"))
    assert "dev split of 40 of the 400 train rows" in text and "never on the eval set" in text
    from ftspec.compiler.build import render_project

    built = render_project(check_project(DEMO_SPEC), DEMO_SPEC.parent / "build")
    assert built.manifest["dev_split"]["rows"] == 40 and built.manifest["dev_split"]["of_rows"] == 400


def test_one_default_template_for_the_plan_and_the_scripts(tmp_path):
    """Chat rows on a model without a chat template: the plan and prompt_format.json hold the same default, which
    cues the answer with `assistant:` (the plan once held a bare `{prompt}`, another table's value)."""
    from ftspec.compiler.pipeline import check_project
    from ftspec.compiler.plan import DEFAULT_TEMPLATES
    from ftspec.compiler.render import prompt_format

    rows = [{"messages": [{"role": "user", "content": f"order {i} red mugs"},
                          {"role": "assistant", "content": f'{{"quantity": {i}}}'}]} for i in range(60)]
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:50]), encoding="utf-8")
    (tmp_path / "eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[50:]), encoding="utf-8")
    (tmp_path / "project.yaml").write_text(
        "ftspec: 1\nname: chat-orders\ndata: {format: chat, train: train.jsonl, eval: eval.jsonl}\n"
        "models:\n  - {name: base, hub: org/base-model, params: 0.5B}\nmethod: lora\n", encoding="utf-8")
    plan = check_project(tmp_path / "project.yaml").plan
    assert plan.prompt_format.template == DEFAULT_TEMPLATES["chat"] == "{conversation}\nassistant:\n"
    assert prompt_format(plan)["template"] == DEFAULT_TEMPLATES["chat"]
