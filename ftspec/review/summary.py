"""The human part of report.json: agreement per criterion (gated by review.min_agreement) and how each automatic
metric follows each human one."""

from __future__ import annotations

from pathlib import Path

from ftspec.review.agreement import agreement, correlation
from ftspec.review.store import PREFERENCES, RATINGS, read_jsonl, reviews_dir

HUMAN_METRICS = ("human_rating", "human_pass_rate", "human_win_rate")


def human_summary(run_dir: Path, spec, scorer) -> tuple[dict | None, list[str]]:
    """(the report's `human` section or None without reviews, problems that fail the report)."""
    ratings = read_jsonl(reviews_dir(run_dir) / RATINGS)
    preferences = read_jsonl(reviews_dir(run_dir) / PREFERENCES)
    if not ratings and not preferences:
        return None, []
    found = agreement(ratings, preferences, spec.review.rubric)
    problems = []
    floor = spec.review.min_agreement
    for name, entry in found.items():
        entry["passed"] = None if floor is None else entry["alpha"] is not None and entry["alpha"] >= floor
        if entry["passed"] is False:
            measured = "not measurable (fewer than 2 rows judged twice)" if entry["alpha"] is None \
                else f"{entry['alpha']:.3f}"
            problems.append(f"annotators agree too little on `{name}`: Krippendorff's alpha {measured} < "
                            f"review.min_agreement {floor:g}")
    return {"ratings": len(ratings), "preferences": len(preferences), "min_agreement": floor,
            "agreement": found, "correlation": _correlations(spec, scorer)}, problems


def _correlations(spec, scorer) -> list[dict]:
    from ftspec.evals.gates import TUNED
    from ftspec.evals.metrics import metric_label

    human = [m for m in spec.metrics if m.name in HUMAN_METRICS and m.slice == "all"]
    auto = [m for m in spec.metrics if m.name not in HUMAN_METRICS and m.slice == "all"]
    found = []
    for h in human:
        human_rows = _per_row(scorer.cell(TUNED, "all", h).scored)
        for a in auto:
            auto_rows = _per_row(scorer.cell(TUNED, "all", a).scored)
            if auto_rows is not None and human_rows is not None:
                found.append({"automatic": metric_label(a), "human": metric_label(h),
                              **correlation(auto_rows, human_rows)})
    return found


def _per_row(scored) -> dict[str, float] | None:
    if scored.per_example is None:
        return None
    return {key: float(v) for key, v in zip(scored.keys, scored.per_example, strict=True)}
