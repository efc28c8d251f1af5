"""Shared fixtures. Models are built once per machine and reused: a file lock keeps parallel workers from
building the same one twice."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

# Test parallelism and torch threads in step: under `pytest -n 2` each worker, and every process it starts, runs
# torch on one thread. Two threads per worker on two cores make every small op wait for a descheduled thread (the
# demo's training took twice the CPU time on two threads). A value set by the caller wins.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]
SPECS = REPO / "specs"
DEMO_SPEC = SPECS / "demo" / "project.yaml"
DEMO_MODEL = SPECS / "demo" / "models" / "tiny-llama"
CACHE = REPO / "tests" / ".cache"
SHARED_DATA = REPO.parent / "shared" / "data"


@contextmanager
def _locked(name: str):
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _ensure_model(out: Path, pretrain_steps: int) -> Path:
    with _locked(out.name):
        from ftspec.demo.model import make_demo_model

        make_demo_model(out, pretrain_steps=pretrain_steps)
    return out


@pytest.fixture(scope="session")
def tiny_model_dir() -> Path:
    """A random-init tiny Llama with a trained tokenizer: for tests that need shapes, not skill."""
    return _ensure_model(CACHE / "tiny-llama-random", pretrain_steps=0)


@pytest.fixture(scope="session")
def demo_model_dir() -> Path:
    """The demo's pre-trained tiny base model (the one `make demo` uses)."""
    return _ensure_model(DEMO_MODEL, pretrain_steps=300)


def models_for(spec: Path, request: pytest.FixtureRequest) -> None:
    """Make the local models an example spec names before a test reads it: a test parametrized over specs/*/
    asks for the demo model's fixture only in its `demo` case, so it passes alone and in any order."""
    if spec.resolve() == DEMO_SPEC.resolve():
        request.getfixturevalue("demo_model_dir")


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 600):
    """Run `python -m ftspec ...` as a user would; returns the CompletedProcess (text)."""
    full_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})}
    return subprocess.run([sys.executable, "-m", "ftspec", *args], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture(scope="session")
def zoo_model():
    """arch -> folder of a tiny random-init model of that family (ftspec/demo/zoo.py), built once per machine."""

    def build(arch: str) -> Path:
        out = CACHE / "zoo" / arch
        with _locked(f"zoo-{arch}"):
            from ftspec.demo.zoo import make_zoo_model

            make_zoo_model(arch, out)
        return out

    return build


@pytest.fixture(scope="session")
def example_models() -> None:
    """The local base models of the example specs other than the demo's (specs/flan-t5-local: a zoo T5)."""
    out = SPECS / "flan-t5-local" / "models" / "flan-t5-tiny"
    with _locked("flan-t5-local"):
        from ftspec.demo.zoo import make_zoo_model

        make_zoo_model("t5", out)
