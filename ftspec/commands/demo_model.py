"""`ftspec demo-model OUT`: the tiny local Llama base model that the demo and the tests use (imports torch)."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path


def demo_model_command(out: Path, pretrain_steps: int, force: bool, as_json: bool = False,
                       arch: str | None = None) -> int:
    if arch is not None:  # a random-init tiny model of another family (ftspec/demo/zoo.py)
        return _zoo_model(out, arch, force, as_json)
    from ftspec.demo.model import make_demo_model

    if not as_json:
        make_demo_model(out, pretrain_steps=pretrain_steps, force=force)
        return 0
    with contextlib.redirect_stdout(sys.stderr):  # its progress lines go to stderr: stdout is one JSON document
        made = make_demo_model(out, pretrain_steps=pretrain_steps, force=force)
    from ftspec.demo.model import built_with
    from ftspec.ui.console import print_json

    print_json({"ok": True, "exit_code": 0, "model": str(made), "recipe": built_with(made)})
    return 0


def _zoo_model(out: Path, arch: str, force: bool, as_json: bool) -> int:
    from ftspec.demo.zoo import make_zoo_model
    from ftspec.ui.console import console, print_json

    with contextlib.redirect_stdout(sys.stderr):
        made = make_zoo_model(arch, out, force=force)
    if as_json:
        print_json({"ok": True, "exit_code": 0, "model": str(made), "arch": arch, "recipe": "random init"})
    else:
        console().print(f"demo model: {made} ({arch}, random init)", markup=False, highlight=False)
    return 0
