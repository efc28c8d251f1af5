"""The command line itself: help, usage errors and their exit codes (a contract: 2 for invalid arguments)."""

from __future__ import annotations

import subprocess
import sys

from tests.invoke import invoke

COMMANDS = ("check", "explain", "build", "run", "eval", "runs", "schema", "metrics", "init", "demo-model", "data")


def test_help_lists_every_command_and_the_exit_codes():
    result = invoke(["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert f"\n    {name} " in result.output or f"\n    {name}\n" in result.output, name
    assert "exit codes: 0 success · 1 gate failed" in result.output


def test_no_command_prints_the_help_and_exits_2():
    result = invoke([])
    assert result.exit_code == 2
    assert "usage: ftspec" in result.stderr and "check" in result.stderr


def test_a_mistyped_command_gets_the_nearest_one():
    result = invoke(["chek", "project.yaml"])
    assert result.exit_code == 2
    assert result.stderr == "error: unknown command `chek`; did you mean `check`?\n"
    nested = invoke(["data", "clen", "project.yaml"])
    assert nested.exit_code == 2 and "did you mean `clean`?" in nested.stderr


def test_a_missing_argument_is_a_usage_error():
    result = invoke(["check"])
    assert result.exit_code == 2
    assert "the following arguments are required: SPEC" in result.stderr
    assert invoke(["data", "clean", "project.yaml"]).exit_code == 2  # --out is required


def test_command_help_names_its_options():
    result = invoke(["run", "--help"])
    assert result.exit_code == 0
    for option in ("--resume ID", "--build DIR", "--no-eval", "--force", "--json", "--debug"):
        assert option in result.output, option


def test_each_command_parses_on_its_own():
    """A named command builds only its own subparser: each one must stand alone, with its own usage line."""
    for name in COMMANDS:
        result = invoke([name, "--help"])
        assert result.exit_code == 0, name
        assert result.output.startswith(f"usage: ftspec {name} [-h]"), result.output[:80]


def test_the_console_script_flushes_everything_before_it_leaves(tmp_path):
    """`python -m ftspec` skips the interpreter's teardown; what it printed must still arrive whole."""
    done = subprocess.run([sys.executable, "-m", "ftspec", "metrics", "--json"], capture_output=True, text=True)
    assert done.returncode == 0
    assert done.stdout.rstrip().endswith("}") and '"exact_match"' in done.stdout
    missing = subprocess.run([sys.executable, "-m", "ftspec", "check", str(tmp_path / "nope.yaml")],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "no such file" in missing.stderr
