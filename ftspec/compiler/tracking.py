"""The experiment tracker a spec names (`tracking:`) must be importable where train.py runs, or the Trainer stops
at its first step ("TensorBoardCallback requires tensorboard"). `check` looks for the package without importing it.
"""

from __future__ import annotations

import importlib.util

from ftspec.compiler.plan import Prerequisite

# tracker -> (packages any of which the Trainer's callback accepts, how to install one)
TRACKERS: dict[str, tuple[tuple[str, ...], str]] = {
    "tensorboard": (("tensorboard", "tensorboardX"), "pip install 'ftspec[tracking]'"),
    "mlflow": (("mlflow",), "pip install 'ftspec[mlflow]'"),
    "wandb": (("wandb",), "pip install 'ftspec[wandb]'"),
}


def _installed(package: str) -> bool:
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):  # a broken or half-installed package
        return False


def tracker_prerequisite(tracking: str | list[str]) -> Prerequisite | None:
    """None when nothing is tracked; else whether the trackers' packages are installed, with the command if not."""
    if not isinstance(tracking, str):  # several: the first one missing says what to install
        found = [tracker_prerequisite(name) for name in tracking]
        found = [p for p in found if p is not None]
        return next((p for p in found if not p.met), found[0] if found else None)
    if tracking not in TRACKERS:
        return None
    packages, install = TRACKERS[tracking]
    if any(_installed(p) for p in packages):
        return Prerequisite(name="tracking", met=True)
    return Prerequisite(name="tracking", met=False,
                        hint=f"`tracking: {tracking}` needs the {packages[0]} package, which is not installed here: "
                             f"`{install}` (or set `tracking: none`)")
