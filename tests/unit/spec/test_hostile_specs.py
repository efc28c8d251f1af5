"""A spec is untrusted input (CI checks pull requests): whatever it holds, loading it has a bounded cost and a
located error (exit 2). Each hostile spec below would hang or crash an unbounded loader; here each stops at a
limit after a bounded amount of work, so the tests finish quickly by construction."""

from __future__ import annotations

from pathlib import Path

from ftspec.spec import source
from tests.invoke import invoke


def _check(path: Path, text: str):
    path.write_text(text, encoding="utf-8")
    return invoke(["check", str(path)])


def alias_bomb(levels: int = 9) -> str:
    """`a: &a [x,...]`, `b: &b [*a,*a,...]`, ...: a few hundred bytes that expand to 9**levels values."""
    lines = ["ftspec: 1", "name: bomb", "description: boom", "bomb:", "  a: &a [x,x,x,x,x,x,x,x,x]"]
    previous = "a"
    for name in "bcdefghijklmnop"[:levels - 1]:
        lines.append(f"  {name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
        previous = name
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_a_located_error(tmp_path: Path):
    text = alias_bomb()
    assert len(text) < 2_000
    result = _check(tmp_path / "bomb.yaml", text)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    located = [line for line in result.output.splitlines() if f"{tmp_path / 'bomb.yaml'}:" in line]
    assert located and ("uses of anchored lists" in located[0] or "values once aliases" in located[0])
    line = int(located[0].split("bomb.yaml:")[1].split(":")[0])
    assert 6 <= line <= 13  # on one of the alias lines


def test_a_few_aliases_still_work(tmp_path: Path):
    """Anchors are legitimate YAML: a model reused under two names loads as before."""
    text = ("ftspec: 1\nname: t\ndata:\n  format: instruction\n  train: train.jsonl\n"
            "models:\n  - &m {name: m, hub: org/model, params: 1B}\n")
    (tmp_path / "train.jsonl").write_text('{"instruction": "a", "input": "", "output": "b"}\n')
    from ftspec.spec.load import load_spec

    path = tmp_path / "p.yaml"
    path.write_text(text)
    assert load_spec(path).spec.models[0].name == "m"


def test_deep_nesting_is_a_located_error(tmp_path: Path):
    for depth in (source.MAX_DEPTH + 1, 5_000):  # past the limit, and past Python's recursion limit in ruamel
        result = _check(tmp_path / "deep.yaml", f"ftspec: 1\nname: t\nx: {'[' * depth}{']' * depth}\n")
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        # the top mapping is level 1, so the bracket that opens level MAX_DEPTH + 1 is the MAX_DEPTH-th
        assert f"deep.yaml:3:{source.MAX_DEPTH + 3}" in result.output
        assert f"nested more than {source.MAX_DEPTH} levels deep" in result.output


def test_oversized_spec_is_refused_before_parsing(tmp_path: Path):
    text = "ftspec: 1\nname: t\n" + "# padding\n" * (source.MAX_SPEC_BYTES // 10 + 1)
    result = _check(tmp_path / "big.yaml", text)
    assert result.exit_code == 2
    assert f"the spec is larger than {source.MAX_SPEC_BYTES >> 10} KiB" in result.output
    assert f"{tmp_path / 'big.yaml'}:" in result.output


def test_unclosed_quote_is_reported_at_the_quote(tmp_path: Path):
    lines = ["ftspec: 1", "name: t", "data:", "  format: instruction", "  train: train.jsonl", "models:",
             '  - {name: m, hub: "org/model, params: 1B}'] + [f"k{i}: v" for i in range(13)]
    result = _check(tmp_path / "q.yaml", "\n".join(lines) + "\n")
    assert result.exit_code == 2
    assert f"{tmp_path / 'q.yaml'}:7:20  YAML: a quote opened here is never closed" in result.output
