"""Non-inferiority gates: `ftspec eval SPEC --against promoted|RUN`.

The candidate run is compared with the reference run exactly as `ftspec compare` does (paired, same eval set), and
every (metric, slice) is gated on the paired difference candidate - reference:
- with a tolerance in the spec (`regression: {tolerance: {exact_match: ">= -0.01"}}`), the CI bound on the side
  the threshold faces must clear it (the lower bound for >=, the upper for <=);
- without one, the gate fails only when the whole CI lies on the worse side of 0 (a drop the data shows).
"""

from __future__ import annotations

from pathlib import Path

from ftspec.evals.gates import fmt
from ftspec.runtime.rundir import RunDir

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


def regression_section(loaded, run_dir: Path | RunDir, against: str) -> dict:
    from ftspec.versions.compare import compare_runs
    from ftspec.versions.refs import resolve_run

    candidate = run_dir if isinstance(run_dir, RunDir) else RunDir(Path(run_dir))
    reference = resolve_run(loaded, against)
    result = compare_runs(loaded, reference, candidate)
    wanted = loaded.spec.regression.slices
    gates = [_gate(loaded.spec, m) for m in result["metrics"] if wanted is None or m["slice"] in wanted]
    return {"against": reference.id, "asked": against, "candidate": candidate.id,
            "passed": all(g["passed"] for g in gates),
            "eval_set_sha256": result["b"]["eval_set_sha256"], "confidence": result["confidence"],
            "gates": gates, "counts": {"gates": len(gates), "failed": sum(not g["passed"] for g in gates)}}


def regression_gates(loaded, run_dir: Path | RunDir, against: str | None, report: dict) -> dict | None:
    """The one hook `ftspec eval` calls between scoring and writing the reports: adds report["regression"] (which
    the report writers turn into a table in report.md, test cases in junit.xml) and fails the verdict on a
    regression."""
    if not against:
        return None
    section = regression_section(loaded, run_dir, against)
    report["regression"] = section
    if not section["passed"]:
        report["verdict"] = "fail"
    return section
