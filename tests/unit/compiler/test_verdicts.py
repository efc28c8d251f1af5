"""`check`'s verdict agrees with what `build` will do, budgets and lengths are weighed (issue 12)."""

from __future__ import annotations

import json

from ftspec.compiler.pipeline import check_project
from tests.invoke import invoke
from tests.unit.compiler.test_decide_matrix import BASE, dump, merge

FINE_TUNE = {"requirements": {"needs": ["strict_format"]}}


def project(tmp_path, changes: dict, rows: int = 60) -> object:
    spec = merge(merge(BASE, FINE_TUNE), changes)
    for name, count in (("train.jsonl", rows), ("eval.jsonl", 20)):
        lines = [json.dumps({"prompt": f"question {name} {i}", "completion": f"answer {i}"}) for i in range(count)]
        (tmp_path / name).write_text("\n".join(lines) + "\n")
    path = tmp_path / "project.yaml"
    path.write_text(dump(spec))
    return path


def check_json(path) -> tuple[int, dict]:
    result = invoke(["check", path, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_a_ready_project_checks_ok(tmp_path):
    code, body = check_json(project(tmp_path, {}))
    assert (code, body["ok"], body["blocking"]) == (0, True, [])


def test_an_unmet_blocking_prerequisite_fails_check_as_build_refuses(tmp_path):
    path = project(tmp_path, {"training": {"batch_size": 4096}})
    code, body = check_json(path)
    assert code == 2 and body["ok"] is False and body["exit_code"] == 2
    assert [b["name"] for b in body["blocking"]] == ["fits_budget"]
    built = invoke(["build", path])
    assert built.exit_code == 2 and "fits_budget" in built.stderr
    forced = invoke(["build", path, "--force", "--json"])
    assert forced.exit_code == 0
    assert json.loads((tmp_path / "build" / "manifest.json").read_text())["forced"] is True


def test_missing_use_cases_block_check(tmp_path):
    spec = merge(BASE, FINE_TUNE)
    del spec["requirements"]["use_cases"]
    path = project(tmp_path, {})
    path.write_text(dump(spec))
    code, body = check_json(path)
    assert code == 2 and body["ok"] is False
    assert body["blocking"][0]["name"] == "use_cases" and "use_cases" in body["blocking"][0]["hint"]
    human = invoke(["check", path])
    assert human.exit_code == 2 and "blocking: use_cases" in human.stdout


def test_check_result_names_what_blocks(tmp_path):
    result = check_project(project(tmp_path, {"training": {"batch_size": 4096}}))
    assert [b["name"] for b in result.blocking] == ["fits_budget"] and int(result.exit_code) == 2
