"""Every spec in broken/ must fail `ftspec check` with exit 2, a located message and a hint, and no traceback.

Each file's first line states what the user must see: `# expect: LINE:COL | dotted.path | message | hint`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.invoke import invoke

BROKEN = Path(__file__).parent / "broken"
CASES = sorted(BROKEN.glob("*.yaml"))


def expectation(path: Path) -> tuple[str, str, str, str]:
    first = path.read_bytes().split(b"\n", 1)[0].decode("ascii")
    assert first.startswith("# expect: "), f"{path.name} lacks an expect line"
    loc, dotted, message, hint = (part.strip() for part in first[len("# expect: "):].split("|"))
    return loc, dotted, message, hint


def test_corpus_is_large_enough():
    assert len(CASES) >= 25


@pytest.mark.parametrize("spec", CASES, ids=lambda p: p.stem)
def test_broken_spec_is_reported_where_it_is(spec: Path):
    loc, dotted, message, hint = expectation(spec)
    result = invoke(["check", str(spec)])
    output = result.output
    assert result.exit_code == 2, output
    assert "Traceback" not in output
    line = next((ln for ln in output.splitlines() if f"{spec}:{loc}" in ln), None)
    assert line is not None, f"no line located at {spec.name}:{loc} in:\n{output}"
    if dotted:
        assert f"  {dotted}  " in line, output
    assert message in line, output
    if hint:
        assert "hint: " in output and hint in output, output


def test_missing_file_and_directory(tmp_path: Path):
    for target, message in ((tmp_path / "nope.yaml", "no such file"), (tmp_path, "is a directory")):
        result = invoke(["check", str(target)])
        assert result.exit_code == 2
        assert f"{target}  {message}" in result.output
        assert "hint:" in result.output


def test_zero_byte_file(tmp_path: Path):
    spec = tmp_path / "p.yaml"
    spec.write_bytes(b"")
    result = invoke(["check", str(spec)])
    assert result.exit_code == 2 and "the spec is empty" in result.output


def test_every_problem_is_reported_at_once(tmp_path: Path):
    spec = tmp_path / "p.yaml"
    spec.write_text("ftspec: 1\nname: x\ndata: {format: instruct, train: t.jsonl, holdot: 0.1}\n"
                    "models: [{name: m, hub: o/m, params: 1B}]\nmetrics: [{name: exact_mach, threshold: '>= x'}]\n")
    result = invoke(["check", str(spec)])
    assert result.exit_code == 2
    assert "4 problems in the spec" in result.output
    for fragment in ("did you mean `instruction`", "did you mean `holdout`", "did you mean `exact_match`",
                     "malformed threshold"):
        assert fragment in result.output


def test_json_errors_carry_locations(tmp_path: Path):
    import json

    spec = tmp_path / "p.yaml"
    spec.write_text("ftspec: 1\nname: x\ndata: {format: chat, train: t.jsonl}\nmodels: [{name: m, hub: o/m}]\n"
                    "tracking: tensorbord\n")
    result = invoke(["check", str(spec), "--json"])
    assert result.exit_code == 2
    document = json.loads(result.output)
    assert document["ok"] is False and document["exit_code"] == 2
    problem = next(e for e in document["errors"] if e["path"] == "tracking")
    assert (problem["line"], problem["col"]) == (5, 11)
    assert problem["hint"] == "did you mean `tensorboard`?"
