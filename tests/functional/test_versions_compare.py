"""`ftspec compare`, `promote`, `models` and `eval --against` on crafted runs whose true difference is known."""

from __future__ import annotations

import json
from xml.etree import ElementTree

import pytest
from statsmodels.stats.contingency_tables import mcnemar

from tests.functional.versions_helpers import RUN_A, RUN_B, answers, planted, project, run_pair, tuned
from tests.invoke import invoke


def _compare(spec, *extra):
    result = invoke(["compare", RUN_A, RUN_B, "--spec", spec, "--json", *extra])
    return result, (json.loads(result.stdout) if result.exit_code == 0 else None)


def test_identical_runs_have_p_one_and_no_change(tmp_path):
    spec = project(tmp_path, [{"name": "exact_match", "threshold": ">= 0.5"}, {"name": "token_f1", "threshold": 0.5}])
    same = tuned(planted(answers(400), range(100)))
    run_pair(tmp_path, same, same)
    result, found = _compare(spec)
    assert result.exit_code == 0, result.output
    assert found["eval_set"]["same"] and found["changed_rows_total"] == 0
    for metric in found["metrics"]:
        assert (metric["p_value"], metric["p_holm"], metric["difference"], metric["change"]) == (1.0, 1.0, 0.0,
                                                                                                 "no change")


def test_a_planted_improvement_on_40_of_400_rows_is_detected(tmp_path):
    spec = project(tmp_path)
    run_pair(tmp_path, tuned(planted(answers(400), range(100))), tuned(planted(answers(400), range(60))))
    result, found = _compare(spec)
    [metric] = found["metrics"]
    assert metric["test"] == "mcnemar_exact"
    assert metric["difference"] == pytest.approx(0.1)
    assert metric["p_value"] == pytest.approx(mcnemar([[300, 0], [40, 60]], exact=True).pvalue)
    assert metric["change"] == "better" and metric["difference_ci"][0] > 0
    assert found["changed_rows_total"] == 40
    assert {row["change"] for row in found["changed_rows"]} == {"fixed"}
    assert found["changed_rows"][0]["a_prediction"] == "wrong"


def test_broken_rows_come_first_and_markdown_and_html_are_written(tmp_path):
    spec = project(tmp_path)
    a = planted(answers(50), range(10))
    b = planted(answers(50), range(5, 15))  # 5 fixed (0-4), 5 broken (10-14)
    _, run_b = run_pair(tmp_path, tuned(a), tuned(b))
    comment = tmp_path / "comment.md"
    result = invoke(["compare", RUN_A, RUN_B, "--spec", spec, "--markdown", comment])
    assert result.exit_code == 0, result.output
    assert "broken" in result.stdout and "fixed" in result.stdout
    text = comment.read_text()
    assert "| exact_match | all | 50 |" in text and "10 rows changed" in text
    assert text.index("| broken |") < text.index("| fixed |")
    assert "all-answer-10" in (run_b / "compare.html").read_text()


def test_different_eval_sets_are_refused_unless_the_intersection_is_asked(tmp_path):
    spec = project(tmp_path)
    run_pair(tmp_path, tuned(answers(40)), tuned(answers(45)))
    refused = invoke(["compare", RUN_A, RUN_B, "--spec", spec])
    assert refused.exit_code == 2
    assert "different eval sets: 0 examples only in A, 5 only in B" in refused.stderr
    assert "--intersection" in refused.stderr
    result, found = _compare(spec, "--intersection")
    assert result.exit_code == 0
    assert found["eval_set"]["intersection"] and found["eval_set"]["shared"] == 40
    assert found["metrics"][0]["n"] == 40


def test_another_reference_for_the_same_id_is_a_different_eval_set(tmp_path):
    spec = project(tmp_path)
    b = answers(40)
    b[3] = ("changed reference", "changed reference")
    run_pair(tmp_path, tuned(answers(40)), tuned(b))
    refused = invoke(["compare", RUN_A, RUN_B, "--spec", spec])
    assert refused.exit_code == 2 and "1 with another reference" in refused.stderr


def test_promote_records_hashes_and_history_and_refuses_a_failed_run(tmp_path):
    spec = project(tmp_path)
    run_a, run_b = run_pair(tmp_path, tuned(answers(20)), tuned(answers(20)), passed=False)
    refused = invoke(["promote", RUN_A, "--spec", spec])
    assert refused.exit_code == 1 and "failed its gates" in refused.stderr and "--force" in refused.stderr
    assert not (tmp_path / "models.json").exists()
    forced = invoke(["promote", RUN_A, "--spec", spec, "--force", "--json"], env={"FTSPEC_USER": "ci-bot"})
    assert forced.exit_code == 0, forced.output
    (run_b / "report.json").write_text(json.dumps({"verdict": "pass", "gates": [{"label": "exact_match",
                                                                                 "passed": True}]}))
    assert invoke(["promote", "last", "--spec", spec]).exit_code == 0
    registry = json.loads((tmp_path / "models.json").read_text())
    assert registry["promoted"] == RUN_B
    first, second = registry["history"]
    assert (first["run_id"], first["forced"], first["by"]) == (RUN_A, True, "ci-bot")
    assert (second["run_id"], second["forced"], second["verdict"]) == (RUN_B, False, "pass")
    assert set(second["hashes"]) == {"spec", "data", "build", "weights"} and second["gates"][0]["passed"]
    listed = invoke(["models", "--spec", spec])
    assert RUN_A in listed.stdout and "forced" in listed.stdout
    assert json.loads(invoke(["models", "--spec", spec, "--json"]).stdout)["promoted"] == RUN_B
    result = invoke(["compare", "promoted", RUN_A, "--spec", spec, "--json"])
    assert json.loads(result.stdout)["a"]["run_id"] == RUN_B


def _regression_project(tmp_path, tolerance):
    spec = project(tmp_path, [{"name": "exact_match", "threshold": ">= 0.5"},
                              {"name": "exact_match", "slice": "adversarial", "threshold": ">= 0.3"}],
                   regression={"tolerance": tolerance}, slices=("adversarial",))
    good = tuned(answers(200)) + tuned(answers(40, "adversarial"), "adversarial")
    worse_adv = tuned(answers(200)) + tuned(planted(answers(40, "adversarial"), range(12)), "adversarial")
    run_pair(tmp_path, good, worse_adv)
    assert invoke(["promote", RUN_A, "--spec", spec]).exit_code == 0
    return spec


def test_a_regression_planted_on_a_slice_fails_the_gate_with_exit_1(tmp_path):
    spec = _regression_project(tmp_path, {"exact_match": ">= -0.05"})
    result = invoke(["eval", spec, "--run", RUN_B, "--against", "promoted", "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    section = report["regression"]
    assert report["verdict"] == "fail" and section["against"] == RUN_A and not section["passed"]
    by_slice = {g["slice"]: g for g in section["gates"]}
    assert by_slice["all"]["passed"] and by_slice["all"]["difference"] == 0
    assert not by_slice["adversarial"]["passed"]
    assert by_slice["adversarial"]["difference"] == pytest.approx(-0.3)
    assert "lower bound" in by_slice["adversarial"]["reason"]
    saved = json.loads((tmp_path / "runs" / RUN_B / "report.json").read_text())
    assert saved["regression"]["passed"] is False
    assert "Regression gates against" in (tmp_path / "runs" / RUN_B / "report.md").read_text()
    junit = ElementTree.parse(tmp_path / "runs" / RUN_B / "junit.xml").getroot()
    failures = [case.get("name") for case in junit.iter("testcase") if case.find("failure") is not None]
    assert failures == [f"no regression exact_match [adversarial] vs {RUN_A} >= -0.05"]
    assert junit.get("failures") == "1" and junit.get("tests") == "4"


def test_the_same_run_against_itself_passes_and_without_against_nothing_changes(tmp_path):
    spec = _regression_project(tmp_path, {"exact_match": ">= -0.01"})
    result = invoke(["eval", spec, "--run", RUN_A, "--against", RUN_A, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["regression"]["passed"]
    plain = invoke(["eval", spec, "--run", RUN_B, "--json"])
    assert "regression" not in json.loads(plain.stdout)


def test_the_terminal_and_the_step_summary_show_the_regression_gates_before_the_verdict(tmp_path):
    spec = _regression_project(tmp_path, {"exact_match": ">= -0.05"})
    summary = tmp_path / "summary.md"
    result = invoke(["eval", spec, "--run", RUN_B, "--against", "promoted"], env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[-1] == "gate failed (exit 1)"
    assert lines.index(f"regression gates against {RUN_A}: fail") < len(lines) - 1
    assert any(line.startswith("  ✗ exact_match [adversarial] B-A -0.3") for line in lines)
    written = summary.read_text()
    assert written.count(f"### Regression gates against `{RUN_A}` ❌ fail") == 1
    assert written == (tmp_path / "runs" / RUN_B / "report.md").read_text()


def test_an_unknown_run_names_every_kind_of_reference(tmp_path):
    spec = project(tmp_path)
    run_pair(tmp_path, tuned(answers(10)), tuned(answers(10)))
    missing = invoke(["compare", "20991231", "last", "--spec", spec])
    assert missing.exit_code == 2 and "no run `20991231`" in missing.stderr
    assert "`last`, `promoted`, an id or a unique prefix" in missing.stderr and RUN_A in missing.stderr
    ambiguous = invoke(["promote", "2025", "--spec", spec])
    assert ambiguous.exit_code == 2 and "`2025` matches 2 runs" in ambiguous.stderr


def test_without_a_tolerance_only_a_significant_drop_fails(tmp_path):
    spec = _regression_project(tmp_path, {})
    result = invoke(["eval", spec, "--run", RUN_B, "--against", "promoted", "--json"])
    gates = {g["slice"]: g for g in json.loads(result.stdout)["regression"]["gates"]}
    assert gates["adversarial"]["tolerance"] == "no significant drop" and not gates["adversarial"]["passed"]
    assert result.exit_code == 1


def test_an_unknown_metric_in_the_tolerance_is_a_located_spec_error(tmp_path):
    spec = project(tmp_path, regression={"tolerance": {"exact_mach": ">= -0.01"}})
    run_pair(tmp_path, tuned(answers(10)), tuned(answers(10)))
    result = invoke(["eval", spec, "--run", RUN_B, "--against", RUN_A])
    assert result.exit_code == 2
    assert "regression.tolerance" in result.stderr and "exact_match" in result.stderr


def test_promoted_without_a_registry_is_a_clear_error(tmp_path):
    spec = project(tmp_path)
    run_pair(tmp_path, tuned(answers(10)), tuned(answers(10)))
    result = invoke(["compare", "promoted", "last", "--spec", spec])
    assert result.exit_code == 2 and "no model promoted yet" in result.stderr


def test_model_output_is_escaped_in_the_html_view(tmp_path):
    spec = project(tmp_path)
    b = answers(10)
    b[2] = (b[2][0], "<script>alert(1)</script>")
    _, run_b = run_pair(tmp_path, tuned(answers(10)), tuned(b))
    assert invoke(["compare", RUN_A, RUN_B, "--spec", spec]).exit_code == 0
    page = (run_b / "compare.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page


def test_repeated_ids_are_refused_since_rows_pair_by_id(tmp_path):
    spec = project(tmp_path)
    doubled = tuned(answers(10)) + tuned(answers(3))
    run_pair(tmp_path, tuned(answers(10)), doubled)
    result = invoke(["compare", RUN_A, RUN_B, "--spec", spec])
    assert result.exit_code == 2 and "3 fine-tuned rows whose (slice, id) repeats" in result.stderr
