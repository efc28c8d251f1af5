"""What the commands print, as a user sees it: every note of a check, the build's kept edits, a reader that closes
the pipe early, Ctrl-C, `--version`, `--json` on every command, and no padding off a terminal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from ftspec.spec.schema import schema_json
from tests.conftest import REPO
from tests.invoke import invoke
from tests.unit.test_cli import COMMANDS

SPEC = """\
ftspec: 1
name: sizes
requirements:
  objective: Label each support ticket with its team.
  use_cases: [route tickets to billing or shipping]
  needs: [strict_format]
  tried:
    - {approach: few_shot_prompting, scores: {exact_match: 0.2}}
metrics:
  - {name: exact_match, threshold: ">= 0.9"}
data:
  format: prompt_completion
  train: data/train.jsonl
  eval: data/eval.jsonl
  quality: {min_examples: 10}
models:
  - {name: m, hub: org/m, params: 1B}
"""


@pytest.fixture
def project(tmp_path) -> Path:
    """20 training rows and 4 eval rows: two size warnings (few training rows; an eval set too small for 0.9)."""
    (tmp_path / "data").mkdir()
    train = [{"prompt": f"ticket {i}: parcel {i * 7} is late", "completion": f"shipping {i}"} for i in range(20)]
    evals = [{"prompt": f"ticket {i}: invoice {i * 13} is wrong", "completion": f"billing {i}"} for i in range(4)]
    (tmp_path / "data" / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in train))
    (tmp_path / "data" / "eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in evals))
    (tmp_path / "project.yaml").write_text(SPEC)
    return tmp_path / "project.yaml"


def _process(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}  # lines as printed
    env.pop("COLUMNS", None)
    # a Ctrl-C must reach it even where this test runs in a background job (which starts with SIGINT ignored)
    return subprocess.Popen([sys.executable, "-m", "ftspec", *args], env=env, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL), **kwargs)


def test_the_check_summary_shows_every_note_of_a_check(project):
    body = json.loads(invoke(["check", project, "--json"]).output)
    (size,) = [f for f in body["audit"]["findings"] if f["check"] == "size"]
    assert size["count"] == 2
    shown = invoke(["check", project], env={"COLUMNS": "400"})
    assert shown.exit_code == 0, shown.output
    for row in size["rows"]:
        assert row["note"] in shown.output  # "train has 20 clean rows ..." and "the eval set has 4 examples ..."
    assert "the eval set has 4 examples, too few for `exact_match >= 0.9`" in shown.output


def test_output_off_a_terminal_has_no_trailing_spaces(project, tmp_path):
    for args in (["check", project], ["explain", project], ["build", project], ["metrics"], ["runs", project]):
        result = invoke(args)  # stdout is not a terminal here, and COLUMNS is not set
        assert result.exit_code == 0, result.output
        assert [line for line in result.stdout.splitlines() if line != line.rstrip()] == [], args


def test_build_says_when_it_keeps_a_hand_edited_script(project):
    assert invoke(["build", project]).exit_code == 0
    build = project.parent / "build"
    with open(build / "train.py", "a") as handle:
        handle.write("# my tweak\n")
    rebuilt = invoke(["build", project, "--force"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "train.py was edited by hand" in rebuilt.output and f"{build / 'train.py'}.edited" in rebuilt.output
    assert (build / "train.py.edited").read_text().endswith("# my tweak\n")
    assert invoke(["build", project]).output.count("edited by hand") == 0  # nothing edited this time
    with open(build / "eval.py", "a") as handle:
        handle.write("# mine\n")
    body = json.loads(invoke(["build", project, "--json"]).output)
    assert body["kept_edits"] == {"eval.py": "eval.py.edited"}


def test_build_check_names_the_folder_once(project):
    assert invoke(["build", project]).exit_code == 0
    result = invoke(["build", project, "--check"])
    assert result.exit_code == 0
    folder = project.parent / "build"
    assert result.stdout == f"the build in {folder} is up to date\n"


def test_a_reader_that_closes_the_pipe_early_is_not_a_failed_gate(project):
    """`ftspec check x | head -1`: the rest of the output goes nowhere, and the exit code is check's own."""
    for args, code in ((["check", str(project)], 0), (["check", str(project), "--json"], 0),
                       (["check", str(project.parent / "missing.yaml")], 2)):
        proc = _process(*args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        proc.stdout.close()  # before it writes a byte: every write finds the pipe closed
        stderr = proc.stderr.read()
        assert proc.wait(timeout=120) == code, (args, stderr)
        assert ("no such file" in stderr) if code else stderr == "", stderr


def test_ctrl_c_exits_130_and_says_so(tmp_path):
    proc = _process("demo-model", str(tmp_path / "model"), "--pretrain-steps", "100000", stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE)
    for line in proc.stdout:  # wait until the command is at work
        if line.startswith("demo model:"):
            break
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=120) == 130
    assert proc.stderr.read().strip().splitlines()[-1] == "interrupted"
    assert not (tmp_path / "model").exists() and not list(tmp_path.iterdir())  # its staging folder is gone too


def test_version():
    result = invoke(["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"ftspec {metadata.version('ftspec')}\n"


def test_every_command_takes_json():
    for name in COMMANDS:
        if name != "data":
            assert "--json" in invoke([name, "--help"]).output, name
    for name in ("audit", "clean"):
        assert "--json" in invoke(["data", name, "--help"]).output, name


def test_init_schema_and_demo_model_print_json(tmp_path, tiny_model_dir):
    made = invoke(["init", tmp_path / "new", "--json"])
    assert made.exit_code == 0, made.output
    body = json.loads(made.stdout)
    assert body["ok"] and all(Path(path).is_file() for path in body["created"])
    assert body["next"] == f"ftspec check {tmp_path / 'new' / 'project.yaml'}"
    schema = invoke(["schema", "--json"])
    assert schema.exit_code == 0 and json.loads(schema.stdout) == json.loads(schema_json())
    model = invoke(["demo-model", tiny_model_dir, "--pretrain-steps", "0", "--json"])
    assert model.exit_code == 0, model.output
    body = json.loads(model.stdout)  # the progress lines went to stderr
    assert body["model"] == str(tiny_model_dir) and body["recipe"]["pretrain_steps"] == 0
    assert "already exists" in model.stderr
