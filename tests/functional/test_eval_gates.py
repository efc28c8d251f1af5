"""`ftspec eval` through the CLI on crafted run folders: the gate passes on good predictions and fails, with a
reason a person can act on, on every way the numbers can be undermined."""

from __future__ import annotations

import json
import math

import pytest

from tests.functional.eval_helpers import RUN_ID, overfitting_log, rows, write_project, write_run
from tests.invoke import invoke

ORDERS = [(f'{{"item": "mug", "qty": {i}}}', f'{{"item": "mug", "qty": {i}}}') for i in range(1, 21)]
WRONG = [(ref, '{"item": "cup", "qty": 0}') for ref, _ in ORDERS]


def run_eval(spec, *args, env=None):
    result = invoke(["eval", str(spec), *args], env={"NO_COLOR": "1", "COLUMNS": "200",
                                                                       "GITHUB_STEP_SUMMARY": "", **(env or {})})
    return result


def report_of(root, run_id=RUN_ID) -> dict:
    return json.loads((root / "runs" / run_id / "report.json").read_text())


def only_gate(root) -> dict:
    (gate,) = report_of(root)["gates"]
    return gate


def test_good_predictions_pass_and_every_report_is_written(tmp_path):
    spec = write_project(tmp_path, [{"name": "exact_match", "threshold": ">= 0.9"},
                                    {"name": "json_valid", "threshold": ">= 0.95"},
                                    {"name": "exact_match", "vs_baseline": "base_few_shot", "threshold": ">= 0.1"}])
    run = write_run(tmp_path, rows("finetuned", ORDERS) + rows("base_few_shot", ORDERS[:10] + WRONG[10:]),
                    train_log=overfitting_log())
    result = run_eval(spec)
    assert result.exit_code == 0, result.output
    assert "3 of 3 gates passed" in result.output and "gate passed" in result.output
    table = [line.split() for line in result.output.splitlines() if line.startswith("exact_match")]
    assert table[1][:6] == ["exact_match", "all", "1", "[1,", "1]", ">="]  # metric, slice, value, CI, threshold
    assert "+0.5" in table[1] and "pass" in table[1]
    report = report_of(tmp_path)
    assert report["verdict"] == "pass" and report["run_id"] == RUN_ID
    margin_gate = report["gates"][2]
    assert margin_gate["value"] == 1.0 and margin_gate["baseline_value"] == 0.5
    assert margin_gate["margin"] == pytest.approx(0.5)
    assert margin_gate["ci"][0] <= 0.5 <= margin_gate["ci"][1]
    assert report["models"]["base_few_shot"]["all"]["exact_match"] == 0.5
    assert report["overfitting"]["detected"] and report["overfitting"]["step"] == 60
    for name in ("report.json", "report.md", "junit.xml", "report.html"):
        assert (run / name).stat().st_size > 0
    assert not list(run.glob(".report*"))  # no temp file left behind


@pytest.mark.parametrize("case, reason", [
    ("nan_latency", "NaN"),
    ("missing_nll", "lack nll and ref_tokens"),
    ("failed_generation", "generations failed (first error: CUDA out of memory)"),
    ("invalid_json", "not valid JSON (counted as invalid, not as wrong answers)"),
    ("empty_tag_slice", "slice `long` is empty for `finetuned`"),
    ("missing_slice", "slice `adversarial` is empty for `finetuned`"),
    ("missing_baseline", "no predictions for model `base_few_shot`"),
    ("unpaired_baseline", "not run on the same examples: 5 only for the fine-tuned model"),
    ("no_prediction_text", "generations failed (first error: no prediction text)"),
])
def test_crafted_predictions_fail_the_gate_with_a_reason(tmp_path, case, reason):
    metric = {
        "nan_latency": {"name": "latency_p95", "threshold": "<= 1000"},
        "missing_nll": {"name": "perplexity", "threshold": "<= 1000"},
        "failed_generation": {"name": "exact_match", "threshold": ">= 0.5"},
        "invalid_json": {"name": "json_schema", "threshold": ">= 0.5", "schema": {"type": "object"}},
        "empty_tag_slice": {"name": "exact_match", "slice": "long", "threshold": ">= 0.5"},
        "missing_slice": {"name": "exact_match", "slice": "adversarial", "threshold": ">= 0.5"},
        "missing_baseline": {"name": "exact_match", "vs_baseline": "base_few_shot", "threshold": ">= 0"},
        "unpaired_baseline": {"name": "exact_match", "vs_baseline": "base_few_shot", "threshold": ">= 0"},
        "no_prediction_text": {"name": "exact_match", "threshold": ">= 0.5"},
    }[case]
    spec = write_project(tmp_path, [metric], slices=("adversarial",))
    predictions = rows("finetuned", ORDERS)
    if case == "nan_latency":
        predictions[3]["latency_ms"] = math.nan
    elif case == "missing_nll":
        predictions[0]["nll"] = None
    elif case == "failed_generation":
        predictions[1].update(prediction=None, error="CUDA out of memory")
    elif case == "invalid_json":
        predictions[2]["prediction"] = '{"item": "mug", "qty": 3'  # cut off mid-object
    elif case == "unpaired_baseline":
        predictions += rows("base_few_shot", ORDERS[:15])
    elif case == "no_prediction_text":
        predictions[4]["prediction"] = None
    write_run(tmp_path, predictions)
    result = run_eval(spec)
    assert result.exit_code == 1, result.output
    gate = only_gate(tmp_path)
    assert not gate["passed"] and reason in gate["reason"]
    assert reason in result.output.replace("\n", " ") or reason[:40] in result.output
    assert "gate failed" in result.output
    # every other score of these sets clears the bar: the failure comes from the integrity check alone
    assert report_of(tmp_path)["verdict"] == "fail"


def test_invalid_and_failed_are_counted_apart_from_wrong(tmp_path):
    spec = write_project(tmp_path, [{"name": "json_schema", "threshold": ">= 0.1",
                                     "schema": {"type": "object", "required": ["item", "qty"]}}])
    predictions = rows("finetuned", ORDERS)
    predictions[0]["prediction"] = '{"item": "mug"}'  # valid JSON, wrong shape: wrong
    predictions[1]["prediction"] = "[invalid]"  # not JSON: invalid
    predictions[2]["prediction"] = "Sure! Here it is"  # not JSON: invalid
    predictions[3].update(prediction=None, error="timeout")  # failed
    write_run(tmp_path, predictions)
    assert run_eval(spec).exit_code == 1
    gate = only_gate(tmp_path)
    assert (gate["n"], gate["wrong"], gate["invalid"], gate["failed"]) == (20, 1, 2, 1)
    assert "1 of 20 `finetuned` generations failed" in gate["reason"]
    assert "2 of 20 `finetuned` predictions are not valid JSON" in gate["reason"]


def test_json_valid_threshold_is_the_tolerance_for_invalid_output(tmp_path):
    spec = write_project(tmp_path, [{"name": "json_valid", "threshold": ">= 0.9"}])
    predictions = rows("finetuned", ORDERS)
    predictions[0]["prediction"] = "oops"
    write_run(tmp_path, predictions)
    assert run_eval(spec).exit_code == 0  # 19 of 20 parse: 0.95 clears 0.9
    gate = only_gate(tmp_path)
    assert gate["invalid"] == 1 and gate["value"] == pytest.approx(19 / 20)
    predictions[1]["prediction"] = predictions[2]["prediction"] = "oops"
    write_run(tmp_path, predictions)
    assert run_eval(spec).exit_code == 1  # 17 of 20: 0.85 misses 0.9
    assert "json_valid: 0.85 is not >= 0.9" in only_gate(tmp_path)["reason"]


def test_a_missed_threshold_fails_with_the_value(tmp_path):
    spec = write_project(tmp_path, [{"name": "exact_match", "threshold": ">= 0.9"}])
    write_run(tmp_path, rows("finetuned", ORDERS[:15] + WRONG[15:]))
    result = run_eval(spec)
    assert result.exit_code == 1
    assert only_gate(tmp_path)["reason"] == "exact_match: 0.75 is not >= 0.9"
    assert "exact_match: 0.75 is not >= 0.9" in result.output


def test_garbled_prediction_lines_fail_the_gate(tmp_path):
    spec = write_project(tmp_path, [{"name": "exact_match", "threshold": ">= 0.5"}])
    good = "".join(json.dumps(r) + "\n" for r in rows("finetuned", ORDERS))
    write_run(tmp_path, good + '{"model": "finetuned", "slice": "all", "predic\n' + '{"slice": "all"}\n')
    result = run_eval(spec)
    assert result.exit_code == 1
    problems = report_of(tmp_path)["problems"]
    assert problems == ["predictions.jsonl:21: not valid JSON (a truncated or garbled line)",
                        "predictions.jsonl:22: no `model`"]
    assert only_gate(tmp_path)["passed"]  # the readable rows are fine; the file as a whole is not


def test_regression_slice_gates_on_no_worse_than_the_base_model(tmp_path):
    spec = write_project(tmp_path, [{"name": "exact_match", "slice": "regression", "vs_baseline": "base_zero_shot",
                                     "threshold": ">= -0.02"}], slices=("regression",))
    base = rows("base_zero_shot", ORDERS, "regression")
    forgot_one_in_20 = rows("finetuned", ORDERS[:19] + WRONG[19:], "regression")
    write_run(tmp_path, forgot_one_in_20 + base)
    assert run_eval(spec).exit_code == 1  # 0.95 - 1.0 = -0.05: worse than the base model by more than 0.02
    gate = only_gate(tmp_path)
    assert gate["margin"] == pytest.approx(-0.05)
    assert "margin over base_zero_shot: -0.05 is not >= -0.02" in gate["reason"]
    write_run(tmp_path, rows("finetuned", ORDERS, "regression") + base)
    assert run_eval(spec).exit_code == 0


def test_latency_margin_is_milliseconds_saved(tmp_path):
    spec = write_project(tmp_path, [{"name": "latency_p50", "vs_baseline": "base_zero_shot", "threshold": ">= 5"}])
    tuned = rows("finetuned", ORDERS)
    base = rows("base_zero_shot", ORDERS)
    for row in base:
        row["latency_ms"] += 10.0  # the baseline is 10 ms slower on every example
    write_run(tmp_path, tuned + base)
    assert run_eval(spec).exit_code == 0
    gate = only_gate(tmp_path)
    assert gate["margin"] == pytest.approx(10.0) and gate["value"] < gate["baseline_value"]


def test_gate_on_lower_bound_keeps_a_small_set_from_passing_by_luck(tmp_path):
    metric = {"name": "exact_match", "threshold": ">= 0.7"}
    eight_of_ten = ORDERS[:8] + WRONG[8:10]
    spec = write_project(tmp_path, [metric])
    write_run(tmp_path, rows("finetuned", eight_of_ten))
    assert run_eval(spec).exit_code == 0  # 0.8 >= 0.7
    spec = write_project(tmp_path, [{**metric, "gate_on_lower_bound": True}])
    assert run_eval(spec).exit_code == 1
    gate = only_gate(tmp_path)
    assert gate["ci"][0] < 0.7 < gate["value"]
    assert "CI lower bound" in gate["reason"] and "(point value 0.8)" in gate["reason"]
    # the spec-wide default applies where the metric does not say
    spec = write_project(tmp_path, [metric], evaluation={"gate_on_lower_bound": True})
    assert run_eval(spec).exit_code == 1
    many = [pair for _ in range(30) for pair in eight_of_ten]  # 0.8 on 300 examples: the bound clears 0.7
    write_run(tmp_path, rows("finetuned", many))
    assert run_eval(spec).exit_code == 0


def test_a_spec_without_metrics_never_passes(tmp_path):
    spec = write_project(tmp_path, [])
    write_run(tmp_path, rows("finetuned", ORDERS))
    assert run_eval(spec).exit_code == 1
    assert "nothing to gate on" in report_of(tmp_path)["problems"][0]


def test_json_prints_the_report(tmp_path):
    spec = write_project(tmp_path, [{"name": "token_f1", "threshold": ">= 0.5"}])
    write_run(tmp_path, rows("finetuned", ORDERS))
    result = run_eval(spec, "--json")
    assert result.exit_code == 0
    printed = json.loads(result.stdout)
    assert printed == report_of(tmp_path)
    assert set(printed["gates"][0]) >= {"metric", "slice", "model", "vs_baseline", "value", "ci", "threshold",
                                        "baseline_value", "margin", "passed", "reason", "n", "invalid", "failed"}


def test_run_selection_and_its_errors(tmp_path):
    spec = write_project(tmp_path, [{"name": "exact_match", "threshold": ">= 0.9"}])
    result = run_eval(spec)
    assert result.exit_code == 2 and "no runs under" in result.output and "ftspec run" in result.output
    write_run(tmp_path, rows("finetuned", WRONG), run_id="20250101-090000-aaaa")
    write_run(tmp_path, rows("finetuned", ORDERS), run_id="20250102-090000-bbbb")
    assert run_eval(spec).exit_code == 0  # the latest run
    assert run_eval(spec, "--run", "20250101-090000-aaaa").exit_code == 1
    missing = run_eval(spec, "--run", "nope")
    assert missing.exit_code == 2
    assert "no run `nope`" in missing.output and "20250101-090000-aaaa, 20250102-090000-bbbb" in missing.output
    # the same references as `run --resume`: a unique prefix, or last
    assert run_eval(spec, "--run", "20250101").exit_code == 1
    assert run_eval(spec, "--run", "last").exit_code == 0
    ambiguous = run_eval(spec, "--run", "2025")
    assert ambiguous.exit_code == 2 and "`2025` matches 2 runs" in ambiguous.output
    (tmp_path / "runs" / "20250103-090000-cccc").mkdir()
    unfinished = run_eval(spec)
    assert unfinished.exit_code == 2 and "has no predictions.jsonl" in unfinished.output
    assert "--resume 20250103-090000-cccc" in unfinished.output


def test_bad_regex_pattern_is_a_usage_error(tmp_path):
    spec = write_project(tmp_path, [{"name": "regex", "pattern": "ORD-(\\d+", "threshold": ">= 0.5"}])
    write_run(tmp_path, rows("finetuned", ORDERS))
    result = run_eval(spec)
    assert result.exit_code == 2 and "does not compile" in result.output


def test_github_step_summary_gets_the_markdown(tmp_path):
    spec = write_project(tmp_path, [{"name": "exact_match", "threshold": ">= 0.9"}])
    run = write_run(tmp_path, rows("finetuned", ORDERS))
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    assert run_eval(spec, env={"GITHUB_STEP_SUMMARY": str(summary)}).exit_code == 0
    text = summary.read_text()
    assert text.startswith("earlier step\n")  # appended, never overwritten
    assert text.endswith((run / "report.md").read_text())
    assert "## ftspec eval: crafted ✅ pass" in text


def test_junit_has_one_testcase_per_gate_with_failure_reasons(tmp_path):
    from xml.etree import ElementTree as ET

    spec = write_project(tmp_path, [{"name": "exact_match", "threshold": ">= 0.9"},
                                    {"name": "token_f1", "threshold": ">= 0.5"}])
    run = write_run(tmp_path, rows("finetuned", ORDERS[:10] + WRONG[10:]))
    assert run_eval(spec).exit_code == 1
    suite = ET.parse(run / "junit.xml").getroot()
    cases = suite.findall("testcase")
    assert len(cases) == 2 and suite.get("failures") == "1"
    failure = cases[0].find("failure")
    assert failure is not None and failure.get("message") == "exact_match: 0.5 is not >= 0.9"
    assert cases[1].find("failure") is None


def test_a_failed_generation_is_reported_once_not_as_an_unpaired_example(tmp_path):
    spec = write_project(tmp_path, [{"name": "exact_match", "vs_baseline": "base_few_shot", "threshold": ">= 0"}])
    tuned = rows("finetuned", ORDERS)
    tuned[0].update(prediction=None, error="timeout")
    write_run(tmp_path, tuned + rows("base_few_shot", WRONG))
    assert run_eval(spec).exit_code == 1
    gate = only_gate(tmp_path)
    assert gate["problems"] == ["1 of 20 `finetuned` generations failed (first error: timeout)"]
    assert gate["margin"] == pytest.approx(1.0)  # measured on the 19 examples both models answered


def test_eval_imports_no_training_library(tmp_path):
    import subprocess
    import sys

    spec = write_project(tmp_path, [{"name": "rouge_l", "threshold": ">= 0.5"}])
    write_run(tmp_path, rows("finetuned", ORDERS), train_log=overfitting_log())
    probe = ("import contextlib, io, sys\nfrom ftspec.cli import main\n"
             "with contextlib.redirect_stdout(io.StringIO()):\n    code = main(['eval', sys.argv[1]])\n"
             "print(code, sorted({m.split('.')[0] for m in sys.modules} & "
             "{'torch', 'transformers', 'peft', 'trl', 'datasets', 'accelerate', 'bitsandbytes'}))")
    out = subprocess.run([sys.executable, "-c", probe, str(spec)], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "[]"]


def test_a_failed_run_never_passes(tmp_path):
    spec = write_project(tmp_path, [{"name": "exact_match", "threshold": ">= 0.9"}])
    run = write_run(tmp_path, rows("finetuned", ORDERS))
    (run / "status.json").write_text(json.dumps({"id": RUN_ID, "state": "interrupted", "stage": "eval"}))
    result = run_eval(spec)
    assert result.exit_code == 1
    assert report_of(tmp_path)["problems"] == [
        f"run {RUN_ID} is interrupted (stage eval): its predictions may be incomplete; "
        f"finish it with `ftspec run SPEC --resume {RUN_ID}`"]
    (run / "status.json").write_text(json.dumps({"id": RUN_ID, "state": "completed", "stage": "eval"}))
    assert run_eval(spec).exit_code == 0
