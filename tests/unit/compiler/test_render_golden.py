"""Golden files: the rendered build of each example spec and of a few hand-built plans, compared byte for byte.

Regenerate after an intended change with `FTSPEC_UPDATE_GOLDEN=1 pytest tests/unit/compiler/test_render_golden.py`
and review the diff like code.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from ftspec.compiler.build import MANIFEST, render_project
from ftspec.compiler.pipeline import check_project
from ftspec.compiler.render import render_build
from ftspec.errors import UsageError

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
sys.path.insert(0, str(GOLDEN))
from golden_plans import make_paths, make_plan  # noqa: E402

REPO = GOLDEN.parents[1]
SPECS = sorted((REPO / "specs").glob("*/project.yaml"))
UPDATE = os.environ.get("FTSPEC_UPDATE_GOLDEN") == "1"
PLANS = {
    "plan-lora-chat": dict(method="lora"),
    "plan-qlora-template": dict(method="qlora", kind="template", system_prompt="Answer in JSON."),
    "plan-full-instruction-holdout": dict(method="full", data_format="instruction", kind="template", holdout=0.1,
                                          eval_steps=None, patience=2),
    "plan-dpo-ddp": dict(method="dpo", mode="ddp", processes=2, use_cpu=True, tracking="tensorboard"),
    "plan-lora-fsdp-2-nodes": dict(method="lora", mode="fsdp", processes=16, machines=2),
}


def spec_files(spec: Path) -> dict[str, str]:
    """The build of an example spec, minus the manifest (it records this machine's library versions); a spec that
    the build refuses has its refusal as the golden."""
    result = check_project(spec)
    try:
        built = render_project(result, spec.parent / "build")
    except UsageError as exc:
        return {"refused.txt": "\n".join(exc.lines()) + "\n"}
    return {name: text for name, text in built.files.items() if name != MANIFEST}


def compare(case: str, files: dict[str, str]) -> None:
    folder = GOLDEN / case
    if UPDATE:
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.iterdir():
            stale.unlink()
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8", newline="\n")
    assert folder.is_dir(), f"no golden files for {case}: run with FTSPEC_UPDATE_GOLDEN=1"
    assert sorted(p.name for p in folder.iterdir()) == sorted(files), case
    for name, text in files.items():
        assert (folder / name).read_text(encoding="utf-8") == text, f"{case}/{name} differs from its golden file"


@pytest.mark.parametrize("spec", SPECS, ids=[p.parent.name for p in SPECS])
def test_example_spec_matches_golden(spec, demo_model_dir):  # the demo spec names the demo model: make it first
    compare(f"spec-{spec.parent.name}", spec_files(spec))


@pytest.mark.parametrize("case", sorted(PLANS))
def test_plan_matches_golden(case):
    plan = make_plan(**PLANS[case])
    compare(case, render_build(plan, make_paths(plan), version="golden"))


def test_every_golden_script_compiles_and_passes_ruff():
    import subprocess

    scripts = sorted(GOLDEN.glob("*/*.py"))
    assert len(scripts) >= 2 * len(PLANS)
    for script in scripts:
        compile(script.read_text(encoding="utf-8"), str(script), "exec")
    ruff = Path(sys.executable).parent / "ruff"
    done = subprocess.run([str(ruff), "check", "--no-cache", "--config", str(REPO / "pyproject.toml"),
                           *map(str, scripts)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
