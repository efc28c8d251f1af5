"""The statistics of a comparison: per (metric, slice) both values, the paired difference B - A, CIs, p-values
(Holm-adjusted across the table), and the rows whose score changed.

Mean metrics sharing a slice share their bootstrap draws: their per-example scores are stacked into one matrix and
resampled by a single `counts @ scores` product (ftspec.stats.paired), which is what keeps 10k rows x 10 metrics
x 1,000 resamples near a second.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ftspec.evals.gates import TUNED
from ftspec.evals.metrics import metric_label
from ftspec.metrics import METRICS
from ftspec.spec.vocab import FIXED_SLICES


@dataclass
class Pair:
    metric: object
    slice: str
    a: object  # Scored, restricted to the shared examples, in one order
    b: object
    failed_a: int
    failed_b: int

    @property
    def higher_is_better(self) -> bool:
        return METRICS[self.metric.name].higher_is_better


def _pair(run_a, run_b, metric, slice_name: str, shared: dict[str, set]) -> Pair:
    cell_a, cell_b = run_a.scorer.cell(TUNED, slice_name, metric), run_b.scorer.cell(TUNED, slice_name, metric)
    allowed = shared.get(slice_name if slice_name in FIXED_SLICES else "all", set())  # a tag slices the eval set
    allowed = allowed & set(cell_b.scored.keys)
    common = [k for k in dict.fromkeys(cell_a.scored.keys) if k in allowed]
    return Pair(metric, slice_name, cell_a.scored.subset(common), cell_b.scored.subset(common), cell_a.failed,
                cell_b.failed)


def _by_slice(shared: set) -> dict[str, set]:
    found: dict[str, set] = {}
    for slice_name, key in shared:
        found.setdefault(slice_name, set()).add(key)
    return found


# how a resample's value is computed from resample counts (ftspec.stats.paired.resampled); mean metrics aside
RESAMPLE_KIND = {"perplexity": "sums", "bleu": "sums", "chrf": "sums", "latency_p50": 50.0, "latency_p95": 95.0}


def compare_cells(run_a, run_b, plan: list, shared: set, settings: dict) -> tuple[list[dict], list[dict], int]:
    """Every (metric, slice) entry, Holm-adjusted; the first changed rows (worst first) and how many changed."""
    by_slice = _by_slice(shared)
    pairs = [_pair(run_a, run_b, metric, s, by_slice) for metric, s in plan]
    found = [None] * len(pairs)
    groups: dict[tuple, list[int]] = {}
    for i, pair in enumerate(pairs):
        if len(pair.a.keys) == 0:
            found[i] = _empty(pair)
        else:  # metrics scored on the same examples share their resamples
            groups.setdefault((pair.slice, tuple(pair.a.keys)), []).append(i)
    for group in groups.values():
        for i, entry in zip(group, _group_entries([pairs[i] for i in group], settings), strict=True):
            found[i] = entry
    _holm(found, settings["confidence"])
    return (found, *changed_rows(run_a, run_b, pairs))


def _base(pair: Pair, value_a, value_b) -> dict:
    return {"metric": pair.metric.name, "label": metric_label(pair.metric), "slice": pair.slice,
            "higher_is_better": pair.higher_is_better, "n": len(pair.a.keys),
            "failed_a": pair.failed_a, "failed_b": pair.failed_b,
            "a": _num(value_a), "b": _num(value_b),
            "difference": _num(None if value_a is None or value_b is None else value_b - value_a)}


def _num(value) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _empty(pair: Pair) -> dict:
    return {**_base(pair, None, None), "a_ci": None, "b_ci": None, "difference_ci": None, "test": None,
            "p_value": None}


def _group_entries(pairs: list[Pair], settings: dict) -> list[dict]:
    """One pass of resample counts over every metric of a group: means by one product, the others by
    ftspec.stats.paired.resampled; then each metric's test."""
    import numpy as np

    from ftspec.stats.paired import count_chunks, resampled

    means_at = [j for j, p in enumerate(pairs) if p.a.per_example is not None]
    others = [j for j, p in enumerate(pairs) if p.a.per_example is None]
    n = len(pairs[0].a.keys)
    a = np.stack([pairs[j].a.per_example for j in means_at], axis=1) if means_at else np.zeros((n, 0))
    b = np.stack([pairs[j].b.per_example for j in means_at], axis=1) if means_at else np.zeros((n, 0))
    columns = np.concatenate([a, b, b - a], axis=1)
    mean_draws, other_draws = [], {j: [] for j in others}
    for counts in count_chunks(n, settings["samples"], settings["seed"]):
        mean_draws.append(counts @ columns / n)
        for j in others:
            kind = RESAMPLE_KIND.get(pairs[j].metric.name, "gather")
            other_draws[j].append(np.stack([resampled(pairs[j].a.stats, counts, kind, pairs[j].a.aggregate),
                                            resampled(pairs[j].b.stats, counts, kind, pairs[j].b.aggregate)], 1))
    entries = {j: e for j, e in zip(means_at, _mean_entries([pairs[j] for j in means_at], a, b,
                                                             np.concatenate(mean_draws), settings), strict=True)}
    for j in others:
        entries[j] = _corpus_entry(pairs[j], np.concatenate(other_draws[j]), settings)
    return [entries[j] for j in range(len(pairs))]


def _mean_entries(pairs: list[Pair], a, b, means, settings: dict) -> list[dict]:
    from ftspec.stats.paired import interval, is_binary, mcnemar_exact, sign_flip_pvalues

    conf, samples, seed = settings["confidence"], settings["samples"], settings["seed"]
    m = len(pairs)
    continuous = [j for j in range(m) if not is_binary(a[:, j], b[:, j])]
    flips = dict(zip(continuous, sign_flip_pvalues((b - a)[:, continuous], samples, seed), strict=True)) \
        if continuous else {}
    entries = []
    for j, pair in enumerate(pairs):
        binary = j not in flips
        p = mcnemar_exact(a[:, j], b[:, j]) if binary else float(flips[j])
        entries.append({**_base(pair, a[:, j].mean(), b[:, j].mean()),
                        "a_ci": interval(means[:, j], conf), "b_ci": interval(means[:, m + j], conf),
                        "difference_ci": interval(means[:, 2 * m + j], conf),
                        "test": "mcnemar_exact" if binary else "paired_permutation", "p_value": p})
    return entries


def _corpus_entry(pair: Pair, draws, settings: dict) -> dict:
    from ftspec.stats.paired import bootstrap_pvalue, interval

    conf = settings["confidence"]
    value_a, value_b = pair.a.value, pair.b.value
    diff = draws[:, 1] - draws[:, 0]
    observed = (value_b - value_a) if value_a is not None and value_b is not None else math.nan
    return {**_base(pair, value_a, value_b), "a_ci": interval(draws[:, 0], conf), "b_ci": interval(draws[:, 1], conf),
            "difference_ci": interval(diff, conf), "test": "paired_bootstrap",
            "p_value": bootstrap_pvalue(diff, observed)}


def _holm(entries: list[dict], confidence: float) -> None:
    from ftspec.stats.paired import holm

    tested = [e for e in entries if e["p_value"] is not None]
    for entry, adjusted in zip(tested, holm([e["p_value"] for e in tested]), strict=True):
        entry["p_holm"] = adjusted
    alpha = 1 - confidence
    for entry in entries:
        entry.setdefault("p_holm", None)
        diff = entry["difference"]
        if entry["p_holm"] is None or diff is None or entry["p_holm"] >= alpha or diff == 0:
            entry["change"] = "no change"
        else:
            entry["change"] = "better" if (diff > 0) == entry["higher_is_better"] else "worse"


def changed_rows(run_a, run_b, pairs: list[Pair]) -> tuple[list[dict], int]:
    """Rows whose per-example score moved between the runs, on the fixed slices (tags are subsets of `all`): the
    broken ones first, the biggest drop first; then the fixed ones, the biggest gain first. Every change is counted;
    the texts are filled in for the first ROWS_SHOWN only."""
    import numpy as np

    from ftspec.versions.compare import ROWS_SHOWN

    found = []
    for pair in pairs:  # the plan names each (metric, slice) once
        if pair.a.per_example is None or pair.slice not in FIXED_SLICES:
            continue
        gains = (1.0 if pair.higher_is_better else -1.0) * (pair.b.per_example - pair.a.per_example)
        for i in np.flatnonzero(gains):
            found.append((gains[i] > 0, -abs(float(gains[i])), pair, int(i)))
    found.sort(key=lambda item: (item[0], item[1]))
    return [_changed(run_a, run_b, pair, i) for _, _, pair, i in found[:ROWS_SHOWN]], len(found)


def _changed(run_a, run_b, pair: Pair, i: int) -> dict:
    key, score_a, score_b = pair.a.keys[i], float(pair.a.per_example[i]), float(pair.b.per_example[i])
    gain = (1.0 if pair.higher_is_better else -1.0) * (score_b - score_a)
    row_a, row_b = run_a.rows.get((pair.slice, key), {}), run_b.rows.get((pair.slice, key), {})
    return {"metric": metric_label(pair.metric), "slice": pair.slice, "id": key,
            "change": "fixed" if gain > 0 else "broken", "gain": gain, "a_score": score_a, "b_score": score_b,
            "prompt": _cut(row_a.get("prompt")), "reference": _cut(row_a.get("reference")),
            "a_prediction": _cut(row_a.get("prediction")), "b_prediction": _cut(row_b.get("prediction"))}


def _cut(text) -> str | None:
    from ftspec.versions.compare import TEXT_LIMIT

    if not isinstance(text, str):
        return None
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"
