"""train.py --settings FILE (a sweep trial's settings): refused before the training libraries load when a key is
not settable, and applied to the script's own constants otherwise."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
HEAVY = ("torch", "transformers", "peft", "trl", "datasets", "accelerate", "bitsandbytes")
PROBE = """
import json, runpy, sys
sys.argv = [sys.argv[1], "--output-dir", "unused", "--settings", sys.argv[2]]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit as stop:
    message = str(stop.code)
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {heavy})
print(json.dumps({{"message": message, "heavy": heavy}}))
"""


def _constants_and_apply(script: Path) -> dict:
    tree = ast.parse(script.read_text(encoding="utf-8"))
    keep = [node for node in tree.body
            if (isinstance(node, ast.FunctionDef) and node.name in ("read_settings", "apply_settings"))
            or (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id.isupper() and isinstance(node.value, (ast.Constant, ast.Tuple, ast.Dict)))]
    scope: dict = {"json": json, "Path": Path}
    exec(compile(ast.Module(body=keep, type_ignores=[]), str(script), "exec"), scope)
    return scope


@pytest.mark.parametrize("name", ["spec-demo", "plan-dpo-ddp"])
def test_an_unknown_setting_stops_before_torch(tmp_path, name):
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"learning_rate": 1e-3, "lerning_rate": 1}))
    done = subprocess.run([sys.executable, "-c", PROBE.format(heavy=set(HEAVY)), str(GOLDEN / name / "train.py"),
                           str(settings)], capture_output=True, text=True, check=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert "cannot set lerning_rate" in report["message"] and "learning_rate" in report["message"]
    assert report["heavy"] == []


def test_settings_replace_the_constants_and_lora_entries(tmp_path):
    scope = _constants_and_apply(GOLDEN / "plan-dpo-ddp" / "train.py")
    assert {"lora_r", "dpo_beta", "epochs"} <= set(scope["SETTABLE"])
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"learning_rate": 0.0042, "epochs": 2, "lora_r": 4, "dpo_beta": 0.3}))
    apply = scope["apply_settings"]
    apply.__globals__.update(scope)
    apply(scope["read_settings"](settings))
    assert (scope["LEARNING_RATE"], scope["EPOCHS"], scope["LORA"]["r"], scope["DPO_BETA"]) == (0.0042, 2, 4, 0.3)
