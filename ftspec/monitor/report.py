"""The monitor's report (a JSON document, a contract: extend, never rename) and the re-fine-tune plan."""

from __future__ import annotations

from ftspec.errors import ExitCode
from ftspec.monitor.engine import MonitorRun, summarise
from ftspec.monitor.verdict import Judge, cadence, overall

FORMAT = 1
TOP_CLUSTERS = 10
MIN_CLUSTER = 3  # a cluster of fewer novel prompts is noise, not a topic


def build_report(state: MonitorRun, loaded, logs: list[str], report_id: str) -> dict:
    cfg = loaded.spec.monitoring
    windows = summarise(state, loaded)
    judge = Judge(loaded, state.tracked)
    for window in windows:
        window["verdict"], window["reasons"] = judge.window(window)
        window["clusters"] = _window_clusters(state, window["label"])
    verdict, reasons = overall(windows, cfg.recent_windows)
    bad_share = state.bad_count / max(1, state.bad_count + state.rows)
    problems = _input_problems(state, bad_share, cfg.max_bad_rows)
    report = {
        "ftspec_monitor": FORMAT, "id": report_id,
        "spec": {"name": loaded.spec.name, "path": str(loaded.path), "sha256": loaded.sha256},
        "logs": logs, "training": state.profile.to_json(), "window": cfg.window,
        "rows": {"read": state.rows + state.bad_count, "used": state.rows, "bad": state.bad_count},
        "bad_rows": [bad.to_json() for bad in state.bad], "problems": problems, "notes": state.notes,
        "metrics": [{"label": t.label, "kind": t.kind, "threshold": str(t.spec.threshold)} for t in state.tracked],
        "windows": windows, "clusters": _top_clusters(state),
        "unclustered_novel_rows": state.clusters.unclustered,
        "verdict": verdict, "reasons": reasons,
        "thresholds": {"watch": cfg.watch.model_dump(), "refine_tune": cfg.refine_tune.model_dump(),
                       "near_similarity": cfg.near_similarity, "min_window_rows": cfg.min_window_rows,
                       "recent_windows": cfg.recent_windows},
        "cadence": cadence(windows, cfg.refine_tune.novelty, cfg.window),
    }
    report["plan"] = refine_plan(report, state) if verdict == "refine_tune" else None
    report["exit_code"] = int(ExitCode.INVALID if problems else
                              ExitCode.GATE_FAILED if verdict == "refine_tune" else ExitCode.OK)
    return report


def _input_problems(state: MonitorRun, bad_share: float, limit: float) -> list[str]:
    problems = []
    if state.rows == 0:
        problems.append("no usable log rows" + (f": all {state.bad_count} rows are bad" if state.bad_count else ""))
    elif bad_share > limit:
        problems.append(f"{state.bad_count} bad log rows ({bad_share:.1%}), more than monitoring.max_bad_rows "
                        f"({limit:.1%})")
    if state.profile.rows == 0:
        problems.append("no usable training rows to compare against: " +
                        ", ".join(name for _, name in state.profile.source.files))
    return problems


def _clusters_ranked(state: MonitorRun):
    return sorted((c for c in state.clusters.clusters if c.size >= MIN_CLUSTER), key=lambda c: (-c.size, c.id))


def _top_clusters(state: MonitorRun) -> list[dict]:
    return [c.to_json() for c in _clusters_ranked(state)[:TOP_CLUSTERS]]


def _window_clusters(state: MonitorRun, label: str) -> list[dict]:
    """The biggest clusters of this window's novel prompts (a cluster spans windows; its size here)."""
    here = [(c.windows.get(label, 0), c) for c in state.clusters.clusters if c.windows.get(label, 0) >= MIN_CLUSTER]
    here.sort(key=lambda pair: (-pair[0], pair[1].id))
    return [{"id": c.id, "rows": n, "new": c.first_window == label, "examples": c.examples} for n, c in here[:5]]


def refine_plan(report: dict, state: MonitorRun) -> dict:
    degraded = [w["label"] for w in report["windows"] if w["verdict"] == "refine_tune"]
    checks = sorted({r["check"] for r in report["reasons"]})
    slices = sorted({r["subject"] for r in report["reasons"] if r["check"] in ("gate", "quality_drop")})
    return {
        "degraded_windows": degraded, "checks": checks, "degraded_metrics": slices,
        "clusters": [c["id"] for c in report["clusters"]],
        "sample_rows": 0,  # set when the sample is written
        "next_steps": [
            "label the sample (refine_sample.jsonl: fill in the empty answers, or drop a row)",
            "add the labelled rows to data.train (or a new file listed there) and `ftspec data audit SPEC`",
            "`ftspec baseline SPEC` to re-measure the baselines on the merged data",
            "`ftspec run SPEC` to re-fine-tune, then `ftspec eval SPEC` and compare with the promoted run",
        ],
        "cadence": report["cadence"]["suggested"],
    }


def refine_sample(state: MonitorRun, size: int) -> list[tuple[dict, int]]:
    """Up to `size` distinct novel prompts with their cluster: each cluster's share of the sample is its share of
    the novel prompts (at least one row each, at most the distinct rows it kept), so a new topic fills most of it."""
    ranked = _clusters_ranked(state) or state.clusters.clusters
    total = sum(c.size for c in ranked)
    picked, seen = [], set()
    for cluster in ranked:
        quota = max(1, round(size * cluster.size / total)) if total else 0
        for entry in cluster.sample:
            if quota <= 0 or len(picked) >= size:
                break
            if entry["prompt"] not in seen:
                seen.add(entry["prompt"])
                picked.append((entry, cluster.id))
                quota -= 1
    return picked


def sample_record(entry: dict, cluster: int | None, data_format: str, fields: dict) -> dict:
    """A row in the spec's data format with the answer left empty for a labeller, plus where it came from."""
    col = {name: fields.get(name, name) for name in ("instruction", "input", "output", "prompt", "completion",
                                                       "messages", "chosen", "rejected")}
    prompt = entry["prompt"]
    if data_format == "instruction":
        record = {col["instruction"]: prompt, col["input"]: "", col["output"]: ""}
    elif data_format == "chat":
        record = {col["messages"]: [{"role": "user", "content": prompt}, {"role": "assistant", "content": ""}]}
    elif data_format == "preference":
        record = {col["prompt"]: prompt, col["chosen"]: "", col["rejected"]: entry["output"]}
    else:
        record = {col["prompt"]: prompt, col["completion"]: ""}
    record["_monitor"] = {"source": f"{entry['file']}:{entry['line']}", "window": entry["window"],
                          "cluster": cluster, "production_output": entry["output"]}
    return record
