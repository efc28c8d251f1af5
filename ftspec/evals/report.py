"""The verdict as data (report.json, a contract) and as text for CI: report.md and junit.xml."""

from __future__ import annotations

import time
from xml.etree import ElementTree as ET

from ftspec.evals.gates import Gate, fmt


def build_report(*, run_id: str, spec: dict, gates: list[Gate], models: dict, overfitting: dict,
                 problems: list[str], bootstrap: dict) -> dict:
    failed = [g for g in gates if not g.passed]
    # a report with file-level problems or no gate at all never passes: a missing verdict is not a pass
    verdict = "pass" if gates and not failed and not problems else "fail"
    return {
        "verdict": verdict,
        "run_id": run_id,
        "spec": spec,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "counts": {"gates": len(gates), "passed": len(gates) - len(failed), "failed": len(failed)},
        "problems": problems,
        "gates": [g.to_json() for g in gates],
        "models": models,
        "overfitting": overfitting,
        "bootstrap": bootstrap,
    }


def ci_text(ci: list | None) -> str:
    return "n/a" if not ci else f"[{fmt(ci[0])}, {fmt(ci[1])}]"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def report_markdown(report: dict) -> str:
    ok = report["verdict"] == "pass"
    counts, boot = report["counts"], report["bootstrap"]
    lines = [f"## ftspec eval: {report['spec']['name']} {'✅ pass' if ok else '❌ fail'}", "",
             f"Run `{report['run_id']}` · {counts['passed']} of {counts['gates']} gates passed · "
             f"{boot['confidence']:.0%} bootstrap CI over {boot['samples']} resamples", ""]
    if report["gates"]:
        lines += ["| | metric | slice | value | CI | threshold | baseline | margin (CI) | n | wrong | invalid "
                  "| failed |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for g in report["gates"]:
            lines.append("| " + " | ".join(_cell(c) for c in _gate_cells(g)) + " |")
        lines.append("")
    failures = [g for g in report["gates"] if not g["passed"]]
    if failures or report["problems"]:
        lines.append("**Why it failed**")
        lines += [f"- `{g['label']}` on `{g['slice']}`" + (f" vs `{g['vs_baseline']}`" if g["vs_baseline"] else "")
                  + f": {_cell(g['reason'])}" for g in failures]
        lines += [f"- {_cell(p)}" for p in report["problems"]]
        lines.append("")
    lines += [f"**Loss curves:** {report['overfitting']['message']}", ""]
    lines += _models_markdown(report["models"])
    return "\n".join(lines) + "\n"


def _gate_cells(g: dict) -> list[str]:
    baseline = "" if not g["vs_baseline"] else f"{fmt(g['baseline_value'])} ({g['vs_baseline']})"
    margin = "" if not g["vs_baseline"] else f"{fmt(g['margin'], signed=True)} {ci_text(g['margin_ci'])}"
    threshold = g["threshold"] + (" (CI bound)" if g["gate_on_lower_bound"] else "")
    wrong = "" if g["wrong"] is None else g["wrong"]
    return ["✅" if g["passed"] else "❌", g["label"], g["slice"], fmt(g["value"]), ci_text(g["value_ci"]), threshold,
            baseline, margin, g["n"], wrong, g["invalid"], g["failed"]]


def _models_markdown(models: dict) -> list[str]:
    if not models:
        return []
    slices = list(next(iter(models.values())).keys())
    metrics = list(next(iter(next(iter(models.values())).values())).keys())
    lines = ["<details><summary>Every model on every slice</summary>", "",
             "| model | slice | " + " | ".join(_cell(m) for m in metrics) + " |",
             "|---|---|" + "---|" * len(metrics)]
    for model, by_slice in models.items():
        for name in slices:
            values = by_slice.get(name, {})
            lines.append(f"| {model} | {_cell(name)} | " + " | ".join(fmt(values.get(m)) for m in metrics) + " |")
    return lines + ["", "</details>"]


def report_junit(report: dict) -> str:
    gates = report["gates"]
    failures = sum(not g["passed"] for g in gates) + len(report["problems"])
    suite = ET.Element("testsuite", name=f"ftspec eval {report['spec']['name']}",
                       tests=str(len(gates) + len(report["problems"])), failures=str(failures), errors="0")
    for g in gates:
        name = f"{g['label']} [{g['slice']}]" + (f" vs {g['vs_baseline']}" if g["vs_baseline"] else "") \
            + f" {g['threshold']}"
        case = ET.SubElement(suite, "testcase", classname=f"ftspec.{report['spec']['name']}", name=name)
        if not g["passed"]:
            failure = ET.SubElement(case, "failure", message=g["reason"], type="GateFailed")
            failure.text = g["reason"]
        margin = f" margin={fmt(g['margin'], signed=True)}" if g["vs_baseline"] else ""
        ET.SubElement(case, "system-out").text = (f"value={fmt(g['value'])}{margin} ci={ci_text(g['ci'])} "
                                                  f"n={g['n']} invalid={g['invalid']} failed={g['failed']}")
    for i, problem in enumerate(report["problems"], start=1):
        case = ET.SubElement(suite, "testcase", classname=f"ftspec.{report['spec']['name']}",
                             name=f"predictions integrity {i}")
        ET.SubElement(case, "failure", message=problem, type="IntegrityFailed").text = problem
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
