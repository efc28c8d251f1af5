"""Verdicts: each window's measurements against the spec's thresholds, and the cadence the drift rate suggests.

`ok` < `watch` < `refine_tune`. A reason names the threshold that decided it (its dotted spec path, and where it is
written, or `default` when the spec leaves it out). Windows with fewer than monitoring.min_window_rows rows are
shown but not judged: a handful of requests says nothing about drift.
"""

from __future__ import annotations

from datetime import date

from ftspec.spec.source import dotted

LEVELS = ("ok", "watch", "refine_tune")
FEATURE_NAMES = {"prompt_chars": "prompt length (characters)", "prompt_tokens": "prompt length (words)",
                 "output_chars": "output length (characters)"}


def worst(levels) -> str:
    return max(levels, key=LEVELS.index, default="ok")


class Judge:
    def __init__(self, loaded, tracked):
        self.loaded, self.tracked = loaded, tracked
        self.monitoring = loaded.spec.monitoring
        self.baselines: dict[str, float] = {}  # quality label -> value of the first judged window

    def where(self, *path) -> str:
        return str(self.loaded.locate(*path)) if tuple(path) in self.loaded.source.values else "default"

    def reason(self, level: str, check: str, text: str, value, threshold, path: tuple, subject: str = "") -> dict:
        return {"level": level, "check": check, "subject": subject or check, "text": text, "value": value,
                "threshold": threshold, "spec_path": dotted(path), "location": self.where(*path)}

    def against(self, check: str, value: float | None, what: str, lower_is_worse: bool = False,
                subject: str = "") -> dict | None:
        """`value` against monitoring.refine_tune.<check> and monitoring.watch.<check>."""
        if value is None:
            return None
        for level in ("refine_tune", "watch"):
            limit = getattr(getattr(self.monitoring, level), check)
            crossed = value < limit if lower_is_worse else value >= limit
            if crossed:
                sign = "<" if lower_is_worse else ">="
                return self.reason(level, check, f"{what} {value:.3g} {sign} {limit:g}", value, limit,
                                   ("monitoring", level, check), subject)
        return None

    def shift(self, name: str, psi: float | None, ks: dict | None) -> dict | None:
        """A length distribution's shift: refine_tune when PSI reaches refine_tune.psi and the KS test agrees at
        refine_tune.ks_pvalue (a large PSI from a few rows is noise; a tiny p-value from many rows may be a small
        shift); watch when either alone reaches its watch threshold."""
        if psi is None:
            return None
        p = None if ks is None else ks["pvalue"]
        what = FEATURE_NAMES[name]
        refine, watch = self.monitoring.refine_tune, self.monitoring.watch
        if psi >= refine.psi and (p is None or p < refine.ks_pvalue):
            tested = "" if p is None else f" and KS test p-value {p:.3g} < {refine.ks_pvalue:g}"
            return self.reason("refine_tune", "psi", f"{what} shifted: PSI {psi:.3g} >= {refine.psi:g}{tested}",
                               psi, refine.psi, ("monitoring", "refine_tune", "psi"), name)
        if psi >= watch.psi:
            return self.reason("watch", "psi", f"{what} shifted: PSI {psi:.3g} >= {watch.psi:g}", psi, watch.psi,
                               ("monitoring", "watch", "psi"), name)
        if p is not None and p < watch.ks_pvalue:
            return self.reason("watch", "ks_pvalue", f"{what}: KS test p-value {p:.3g} < {watch.ks_pvalue:g} "
                               f"(PSI {psi:.3g})", p, watch.ks_pvalue, ("monitoring", "watch", "ks_pvalue"), name)
        return None

    def window(self, summary: dict) -> tuple[str, list[dict]]:
        if summary["rows"] < self.monitoring.min_window_rows:
            return "ok", []
        drift, reasons = summary["drift"], []
        reasons.append(self.against("novelty", drift["novelty"], "novel prompts (no near neighbour in training)"))
        reasons.append(self.against("oov", drift["oov"], "prompt words never seen in training"))
        for name, value in drift["psi"].items():
            reasons.append(self.shift(name, value, drift["ks"].get(name)))
        reasons.append(self.against("output_failure", summary["output_failure"],
                                    "outputs failing a format check"))
        reasons += self.gates(summary["metrics"])
        found = [r for r in reasons if r is not None]
        return worst(r["level"] for r in found), found

    def gates(self, metrics: dict) -> list[dict]:
        out = []
        for item in self.tracked:
            result = metrics.get(item.label) or {}
            if not result.get("n") or result.get("value") is None:
                continue
            value, threshold = result["value"], item.spec.threshold
            if not threshold.passes(value):
                out.append(self.reason("refine_tune", "gate", f"{item.label} {value:.3g} misses its gate {threshold}",
                                       value, str(threshold), item.spec_path, item.label))
            if item.kind == "quality":
                out.append(self.drop(item.label, result, item.metric.higher_is_better))
        if "feedback" in metrics:
            out.append(self.drop("feedback", metrics["feedback"], True))
        return out

    def drop(self, label: str, result: dict, higher_is_better: bool) -> dict | None:
        """A fall from the first judged window's value, counted only where this window's CI excludes that value."""
        if result["n"] < self.monitoring.min_window_rows:
            return None
        base = self.baselines.setdefault(label, result["value"])
        sign = 1 if higher_is_better else -1
        fall = sign * (base - result["value"])
        ci = result.get("ci")
        excluded = ci is not None and (ci[1] < base if higher_is_better else ci[0] > base)
        result["drop"] = fall
        if not excluded:
            return None
        found = self.against("quality_drop", fall, f"{label} fell from {base:.3g} (first window) to "
                                                   f"{result['value']:.3g}, CI [{ci[0]:.3g}, {ci[1]:.3g}]: a drop of",
                             subject=label)
        return found


def overall(windows: list[dict], recent: int) -> tuple[str, list[dict]]:
    """What to do now: the worst verdict of the latest `recent` judged windows (older windows are history, and may
    predate the promoted model), with its reasons merged across the windows that gave it."""
    judged = [w for w in windows if w["judged"]]
    latest = judged[-recent:]
    verdict = worst(w["verdict"] for w in latest)
    merged: dict[tuple, dict] = {}
    for w in latest:
        for r in w["reasons"]:
            if r["level"] != verdict:
                continue
            key = (r["check"], r["subject"])
            entry = merged.setdefault(key, {**r, "windows": []})
            entry["windows"].append(w["label"])
    return verdict, list(merged.values())


def cadence(windows: list[dict], refine_novelty: float, kind: str) -> dict:
    """Weekly, monthly or quarterly re-fine-tuning, from how fast novelty climbs (the seeds' three cadences):
    the days from the first window until the novelty threshold was (or, at the fitted rate, would be) crossed."""
    judged = [w for w in windows if w["judged"] and w["drift"]["novelty"] is not None]
    if len(judged) < 2:
        return {"suggested": "quarterly", "days_to_refine": None, "rate_per_week": None,
                "basis": "fewer than two judged windows: no drift rate yet"}
    first = date.fromisoformat(judged[0]["start"])
    days = [(date.fromisoformat(w["start"]) - first).days for w in judged]
    shares = [w["drift"]["novelty"] for w in judged]
    rate = _slope(days, shares)  # novelty share per day
    crossed = next((d for d, w in zip(days, judged, strict=True) if w["verdict"] == "refine_tune"), None)
    if crossed is not None:
        due = crossed + (7 if kind == "week" else 1)
        basis = f"re-fine-tune was due {due} days after the first window"
    elif rate > 0:
        due = days[-1] + max(0.0, (refine_novelty - shares[-1]) / rate)
        basis = f"novelty climbs {rate * 7:.3f} a week; it would cross {refine_novelty:g} after {due:.0f} days"
    else:
        due, basis = None, "novelty is not climbing"
    suggested = "quarterly" if due is None or due > 60 else ("monthly" if due > 14 else "weekly")
    return {"suggested": suggested, "days_to_refine": due, "rate_per_week": rate * 7, "basis": basis}


def _slope(x: list[float], y: list[float]) -> float:
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    var = sum((a - mx) ** 2 for a in x)
    return 0.0 if var == 0 else sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True)) / var
