"""The CI example in docs/ installs ftspec the way a user can (issue 12: `pip install ftspec` finds nothing)."""

from __future__ import annotations

import re

from ruamel.yaml import YAML

from tests.conftest import REPO

WORKFLOW = REPO / "docs" / "ftspec-gate.yml"


def install_commands() -> list[str]:
    flow = YAML(typ="safe", pure=True).load(WORKFLOW.read_text())
    steps = [step for job in flow["jobs"].values() for step in job["steps"]]
    return [line.strip() for step in steps for line in str(step.get("run", "")).splitlines()
            if line.strip().startswith("pip install")]


def test_the_workflow_installs_ftspec_from_its_repository_not_an_index():
    flow = YAML(typ="safe", pure=True).load(WORKFLOW.read_text())
    source = flow["env"]["FTSPEC"]
    assert re.fullmatch(r"ftspec @ git\+https://\S+@\S+", source), source  # a pinned git ref
    commands = install_commands()
    assert commands and not any(re.fullmatch(r"pip install ftspec\b.*", c) for c in commands), commands
    assert commands.count('pip install "$FTSPEC"') == 2  # both jobs


def test_the_check_job_takes_torchs_cpu_build_first():
    commands = install_commands()
    cpu = 'pip install "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu'
    assert commands.index(cpu) < commands.index('pip install "$FTSPEC"')
    assert "torch==2.13.0" in (REPO / "pyproject.toml").read_text()  # the pin the workflow repeats


def test_the_guide_says_the_same():
    guide = (REPO / "docs" / "github-actions.md").read_text()
    assert "git+https://github.com/your-org/ftspec@v0.1.0" in guide and "download.pytorch.org/whl/cpu" in guide
    assert "pip install ftspec`" not in guide
