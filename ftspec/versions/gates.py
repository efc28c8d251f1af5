"""Non-inferiority gates: `ftspec eval SPEC --against promoted|RUN`.

The candidate run is compared with the reference run exactly as `ftspec compare` does (paired, same eval set), and
every (metric, slice) is gated on the paired difference candidate - reference:
- with a tolerance in the spec (`regression: {tolerance: {exact_match: ">= -0.01"}}`), the CI bound on the side
  the threshold faces must clear it (the lower bound for >=, the upper for <=);
- without one, the gate fails only when the whole CI lies on the worse side of 0 (a drop the data shows).
"""

from __future__ import annotations

import os
from pathlib import Path

from ftspec.errors import ExitCode
from ftspec.evals.gates import fmt

DEFAULT_TOLERANCE = "no significant drop"


def _tolerance(spec, entry: dict):
    tolerance = spec.regression.tolerance
    return tolerance.get(entry["label"]) or tolerance.get(entry["metric"])


def _gate(spec, entry: dict) -> dict:
    threshold = _tolerance(spec, entry)
    ci, diff = entry["difference_ci"], entry["difference"]
    gate = {k: entry[k] for k in ("metric", "label", "slice", "n", "difference", "difference_ci", "p_value",
                                  "p_holm", "higher_is_better")}
    gate.update(promoted=entry["a"], candidate=entry["b"], tolerance=str(threshold) if threshold else DEFAULT_TOLERANCE)
    if ci is None or diff is None:
        return {**gate, "bound": None, "passed": False, "reason": "no paired difference: no example scored by both"}
    if threshold is not None:
        bound = ci[0] if threshold.op in (">=", ">") else ci[1] if threshold.op in ("<=", "<") else diff
        passed = threshold.passes(bound)
        side = {">=": "lower", ">": "lower", "<=": "upper", "<": "upper"}.get(threshold.op, "point")
        reason = "" if passed else f"difference CI {side} bound {fmt(bound, signed=True)} is not {threshold}"
        return {**gate, "bound": bound, "passed": passed, "reason": reason}
    worse = ci[1] < 0 if entry["higher_is_better"] else ci[0] > 0
    reason = (f"significantly worse: the whole difference CI [{fmt(ci[0], signed=True)}, {fmt(ci[1], signed=True)}] "
              "is on the worse side of 0") if worse else ""
    return {**gate, "bound": ci[1] if entry["higher_is_better"] else ci[0], "passed": not worse, "reason": reason}


def regression_section(loaded, run_dir: Path, against: str) -> dict:
    from ftspec.versions.compare import compare_runs, resolve_run

    reference = resolve_run(loaded.root, against)
    result = compare_runs(loaded, reference, run_dir)
    wanted = loaded.spec.regression.slices
    gates = [_gate(loaded.spec, m) for m in result["metrics"] if wanted is None or m["slice"] in wanted]
    return {"against": reference.name, "asked": against, "candidate": run_dir.name,
            "passed": all(g["passed"] for g in gates),
            "eval_set_sha256": result["b"]["eval_set_sha256"], "confidence": result["confidence"],
            "gates": gates, "counts": {"gates": len(gates), "failed": sum(not g["passed"] for g in gates)}}


def regression_gates(loaded, run_dir: Path, against: str | None, report: dict) -> dict | None:
    """The one hook `ftspec eval` calls: adds report["regression"] and fails the verdict on a regression."""
    if not against:
        return None
    section = regression_section(loaded, run_dir, against)
    report["regression"] = section
    if not section["passed"]:
        report["verdict"] = "fail"
    return section


def eval_against_command(spec: Path, run_id: str | None = None, as_json: bool = False,
                         against: str | None = None) -> int:
    """`ftspec eval --against`: the usual eval plus the regression section (report.json, report.md)."""
    from ftspec.evals.command import evaluate_run, write_reports
    from ftspec.evals.report import report_markdown
    from ftspec.evals.runs import pick_run
    from ftspec.fsutil import atomic_write_text
    from ftspec.spec.load import load_spec
    from ftspec.versions.view import regression_markdown, show_regression

    loaded = load_spec(spec)
    run_dir = pick_run(loaded.root / "runs", run_id)
    report, log, scorer = evaluate_run(loaded, run_dir)
    section = regression_gates(loaded, run_dir, against, report)
    paths = write_reports(run_dir, report, log, scorer)
    extra = regression_markdown(section)
    atomic_write_text(paths["report.md"], report_markdown(report) + "\n" + extra)
    atomic_write_text(paths["junit.xml"], junit_with_regression(paths["junit.xml"].read_text(encoding="utf-8"),
                                                                section, report["spec"]["name"]))
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write("\n" + extra)
    if as_json:
        from ftspec.ui.console import print_json

        print_json(report)
    else:
        from ftspec.ui.eval import show_eval

        show_eval(report, paths)
        show_regression(section)
    return int(ExitCode.OK if report["verdict"] == "pass" else ExitCode.GATE_FAILED)


def junit_with_regression(junit: str, section: dict, project: str) -> str:
    """junit.xml with one test case per regression gate, a failure carrying its reason."""
    from xml.etree import ElementTree as ET

    suite = ET.fromstring(junit)
    for g in section["gates"]:
        name = f"no regression {g['label']} [{g['slice']}] vs {section['against']} {g['tolerance']}"
        case = ET.SubElement(suite, "testcase", classname=f"ftspec.{project}.regression", name=name)
        if not g["passed"]:
            ET.SubElement(case, "failure", message=g["reason"], type="Regression").text = g["reason"]
        ET.SubElement(case, "system-out").text = (f"difference={fmt(g['difference'], signed=True)} "
                                                  f"ci={g['difference_ci']} n={g['n']}")
    tests, failures = int(suite.get("tests", "0")), int(suite.get("failures", "0"))
    suite.set("tests", str(tests + len(section["gates"])))
    suite.set("failures", str(failures + section["counts"]["failed"]))
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
