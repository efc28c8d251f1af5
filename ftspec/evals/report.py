"""The verdict as data (report.json, a contract) and as text for CI: report.md and junit.xml."""

from __future__ import annotations

import time
from xml.etree import ElementTree as ET

from ftspec.evals.gates import TUNED, Gate, fmt
from ftspec.metrics import METRICS, name_of

# A slice is flagged when it trails the whole eval set by this share of the metric's range (0.1 for a rate, 10
# BLEU points), or, for an unbounded metric (perplexity, latency), when it is this factor worse.
FAR_BELOW_SHARE = 0.1
FAR_BELOW_FACTOR = 1.5


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
        "slices": slice_summary(models, gates),
    }


def slice_summary(models: dict, gates: list[Gate]) -> list[dict]:
    """The fine-tuned model on each slice beside its value on the whole eval set, with a warning where a slice is
    far worse: a gate that passes on average can hide a slice that fails (typos, a rare tag)."""
    by_slice = models.get(TUNED, {})
    overall = by_slice.get("all", {})
    gated = {(g.label, g.slice) for g in gates}
    found = []
    for name, values in by_slice.items():
        if name == "all":
            continue
        for label, value in values.items():
            whole = overall.get(label)
            worse = _worse_by(label, value, whole)
            entry = {"slice": name, "metric": label, "value": value, "overall": whole, "worse_by": worse,
                     "far_below": _far(label, value, whole, worse), "gated": (label, name) in gated}
            entry["warning"] = _slice_warning(entry) if entry["far_below"] else None
            found.append(entry)
    return found


def _worse_by(label: str, value: float | None, whole: float | None) -> float | None:
    if value is None or whole is None:
        return None
    return (whole - value) if METRICS[name_of(label)].higher_is_better else (value - whole)


def _far(label: str, value: float | None, whole: float | None, worse: float | None) -> bool:
    if worse is None or worse <= 0:
        return False
    declared = METRICS[name_of(label)]
    if declared.span:
        return worse >= FAR_BELOW_SHARE * declared.span
    small, big = sorted((value, whole))  # the slice is the worse of the two: compare by how many times
    return small <= 0 or big / small >= FAR_BELOW_FACTOR


def _slice_warning(entry: dict) -> str:
    unit = METRICS[name_of(entry["metric"])].unit
    unit = f" {unit}" if unit else ""
    text = (f"slice `{entry['slice']}`: {entry['metric']} is {fmt(entry['value'])}{unit} against "
            f"{fmt(entry['overall'])}{unit} on the whole eval set")
    return text + ("" if entry["gated"] else " (no gate covers it)")


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
    lines += _sources_markdown(report.get("base_sources") or {})
    if report["gates"]:
        lines += ["| | metric | slice | value | CI | threshold | baseline | margin (CI) | n | wrong | invalid "
                  "| failed |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for g in report["gates"]:
            lines.append("| " + " | ".join(_cell(c) for c in _gate_cells(g)) + " |")
        lines.append("")
        lines += [f"_{_cell(g['label'])} on `{g['slice']}`: measured {_cell(g['method'])}._"
                  for g in report["gates"] if g.get("method")]
        lines += [""] if any(g.get("method") for g in report["gates"]) else []
    failures = [g for g in report["gates"] if not g["passed"]]
    if failures or report["problems"]:
        lines.append("**Why it failed**")
        lines += [f"- `{gate_name(g)}` on `{g['slice']}`" + (f" vs `{g['vs_baseline']}`" if g["vs_baseline"] else "")
                  + f": {_cell(g['reason'])}" for g in failures]
        lines += [f"- {_cell(p)}" for p in report["problems"]]
        lines.append("")
    lines += _slices_markdown(report.get("slices", []))
    from ftspec.review.report import human_markdown

    lines += human_markdown(report)  # imported human reviews (ftspec review import): metrics, agreement
    lines += [f"**Loss curves:** {report['overfitting']['message']}", ""]
    from ftspec.evals.reward_curve import reward_markdown

    lines += reward_markdown(report)
    lines += _models_markdown(report["models"])
    regression = report.get("regression")  # `eval --against` (ftspec.versions.gates)
    return "\n".join(lines) + "\n" + ("\n" + regression_markdown(regression) if regression else "")


def _sources_markdown(sources: dict) -> list[str]:
    """Where the base model's rows came from (ftspec.baseline.reuse): a baseline measurement, or this run."""
    if not sources:
        return []
    return ["Base models: " + "; ".join(f"`{name}` {_cell(where)}" for name, where in sources.items()), ""]


def regression_markdown(section: dict) -> str:
    """The regression gates of `eval --against`: one row per (metric, slice), then why each failed one failed."""
    lines = [f"### Regression gates against `{section['against']}` "
             f"{'✅ pass' if section['passed'] else '❌ fail'}", "",
             "| | metric | slice | n | promoted | candidate | difference (CI) | tolerance |",
             "|---|---|---|---|---|---|---|---|"]
    for g in section["gates"]:
        lines.append(f"| {'✅' if g['passed'] else '❌'} | {_cell(g['label'])} | {_cell(g['slice'])} | {g['n']} | "
                     f"{fmt(g['promoted'])} | {fmt(g['candidate'])} | {fmt(g['difference'], signed=True)} "
                     f"{ci_text(g['difference_ci'])} | {_cell(g['tolerance'])} |")
    failed = [g for g in section["gates"] if not g["passed"]]
    if failed:
        lines += ["", "**Regressions**"] + [f"- `{g['label']}` on `{g['slice']}`: {_cell(g['reason'])}" for g in failed]
    return "\n".join(lines) + "\n"


def gate_name(g: dict) -> str:
    """The gate's label, and the spec key that set it when `metrics` did not (max_latency_ms)."""
    implied = g.get("implied_by")
    return g["label"] + (f" (from {implied.rsplit('.', 1)[-1]})" if implied else "")


def with_unit(value: float | None, g: dict) -> str:
    return fmt(value) + (f" {g['unit']}" if g.get("unit") and value is not None else "")


def _slices_markdown(slices: list[dict]) -> list[str]:
    if not slices:
        return []
    lines = ["**Slices** (the fine-tuned model; ⚠️ far below the whole eval set)", "",
             "| | slice | metric | value | whole eval set | gated |", "|---|---|---|---|---|---|"]
    for e in slices:
        lines.append(f"| {'⚠️' if e['far_below'] else ''} | {_cell(e['slice'])} | {_cell(e['metric'])} | "
                     f"{fmt(e['value'])} | {fmt(e['overall'])} | {'yes' if e['gated'] else 'no'} |")
    lines.append("")
    lines += [f"- ⚠️ {_cell(e['warning'])}" for e in slices if e["warning"]]
    return lines + ([""] if any(e["warning"] for e in slices) else [])


def _gate_cells(g: dict) -> list[str]:
    baseline = "" if not g["vs_baseline"] else f"{fmt(g['baseline_value'])} ({g['vs_baseline']})"
    margin = "" if not g["vs_baseline"] else f"{fmt(g['margin'], signed=True)} {ci_text(g['margin_ci'])}"
    threshold = g["threshold"] + (" (CI bound)" if g["gate_on_lower_bound"] else "")
    wrong = "" if g["wrong"] is None else g["wrong"]
    return ["✅" if g["passed"] else "❌", gate_name(g), g["slice"], with_unit(g["value"], g), ci_text(g["value_ci"]),
            threshold,
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
    gates, regression = report["gates"], report.get("regression") or {"gates": []}
    failures = sum(not g["passed"] for g in gates + regression["gates"]) + len(report["problems"])
    tests = len(gates) + len(report["problems"]) + len(regression["gates"])
    suite = ET.Element("testsuite", name=f"ftspec eval {report['spec']['name']}", tests=str(tests),
                       failures=str(failures), errors="0")
    for g in gates:
        name = f"{gate_name(g)} [{g['slice']}]" + (f" vs {g['vs_baseline']}" if g["vs_baseline"] else "") \
            + f" {g['threshold']}"
        case = ET.SubElement(suite, "testcase", classname=f"ftspec.{report['spec']['name']}", name=name)
        if not g["passed"]:
            failure = ET.SubElement(case, "failure", message=g["reason"], type="GateFailed")
            failure.text = g["reason"]
        margin = f" margin={fmt(g['margin'], signed=True)}" if g["vs_baseline"] else ""
        measured = f" measured {g['method']}" if g.get("method") else ""
        ET.SubElement(case, "system-out").text = (f"value={with_unit(g['value'], g)}{margin} ci={ci_text(g['ci'])} "
                                                  f"n={g['n']} invalid={g['invalid']} failed={g['failed']}{measured}")
    for i, problem in enumerate(report["problems"], start=1):
        case = ET.SubElement(suite, "testcase", classname=f"ftspec.{report['spec']['name']}",
                             name=f"predictions integrity {i}")
        ET.SubElement(case, "failure", message=problem, type="IntegrityFailed").text = problem
    _regression_cases(suite, regression, report["spec"]["name"])
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def _regression_cases(suite: ET.Element, section: dict, project: str) -> None:
    """One test case per regression gate of `eval --against`, a failure carrying its reason."""
    for g in section["gates"]:
        name = f"no regression {g['label']} [{g['slice']}] vs {section['against']} {g['tolerance']}"
        case = ET.SubElement(suite, "testcase", classname=f"ftspec.{project}.regression", name=name)
        if not g["passed"]:
            ET.SubElement(case, "failure", message=g["reason"], type="Regression").text = g["reason"]
        ET.SubElement(case, "system-out").text = (f"difference={fmt(g['difference'], signed=True)} "
                                                  f"ci={g['difference_ci']} n={g['n']}")
