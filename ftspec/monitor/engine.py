"""The streaming pass: log batches in, window aggregates updated, one report dict out.

Memory is bounded by the number of windows (each holds counts, a capped vocabulary and fixed-size reservoirs), the
training profile, the novelty cache and the cluster index; no log row is kept past its batch except the capped
per-cluster samples that become the re-fine-tune sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ftspec.data.text import words
from ftspec.monitor.health import score_batch, tracked_metrics
from ftspec.monitor.logs import BadRow, LogReader
from ftspec.monitor.novelty import Clusters
from ftspec.monitor.training import TrainingProfile, profile_training
from ftspec.monitor.window import Window, window_start

MAX_LISTED = 50  # bad rows listed by file:line (all are counted)


@dataclass
class MonitorRun:
    """What the pass leaves for the report: windows by start day, clusters, bad rows, counts."""

    profile: TrainingProfile
    tracked: list
    notes: list[str]
    windows: dict[date, Window] = field(default_factory=dict)
    clusters: Clusters | None = None
    bad: list[BadRow] = field(default_factory=list)
    bad_count: int = 0
    rows: int = 0


def monitor_logs(loaded, logs: list[tuple[Path, str]], progress=None) -> MonitorRun:
    from ftspec.evals.metrics import MetricContext

    spec, cfg = loaded.spec, loaded.spec.monitoring
    profile = profile_training(loaded, cfg.near_similarity)
    tracked, notes = tracked_metrics(spec)
    state = MonitorRun(profile, tracked, notes, clusters=Clusters(cfg.near_similarity))
    reader = LogReader(cfg.fields, cfg.feedback_scale)
    ctx = MetricContext(loaded.root)
    for path, name in logs:
        for good, bad in reader.batches(path, name):
            state.bad_count += len(bad)
            state.bad.extend(bad[:max(0, MAX_LISTED - len(state.bad))])
            if good:
                _process(state, good, spec, ctx)
                if progress is not None:
                    progress(state.rows)
    return state


def _process(state: MonitorRun, rows: list, spec, ctx) -> None:
    cfg, profile = spec.monitoring, state.profile
    state.rows += len(rows)
    prompts = [row.prompt for row in rows]
    token_lists = [words(prompt) for prompt in prompts]
    novel, sigs = profile.index.novel(prompts, token_lists)
    groups: dict[date, list[int]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(window_start(row.day, cfg.window), []).append(i)
    scores = score_batch(state.tracked, rows, ctx)
    failed = _failed_rows(state.tracked, scores, len(rows))
    novel_rows, novel_windows, novel_tokens, novel_sigs = [], [], [], {}
    for start, positions in groups.items():
        window = state.windows.get(start)
        if window is None:
            window = state.windows[start] = Window(start, cfg.window, profile, state.tracked, spec.training.seed)
        window.rows += len(positions)
        window.add_features(profile, {
            "prompt_chars": [len(prompts[i]) for i in positions],
            "prompt_tokens": [len(token_lists[i]) for i in positions],
            "output_chars": [len(rows[i].output) for i in positions]})
        window.add_words(profile.vocab, [token_lists[i] for i in positions])
        window.failures += sum(failed[i] for i in positions)
        _add_scores(window, scores, set(positions))
        feedback = [rows[i].feedback for i in positions if rows[i].feedback is not None]
        if feedback:
            window.feedback.add([(value,) for value in feedback], feedback)
        window.latency.extend([rows[i].latency_ms for i in positions if rows[i].latency_ms is not None])
        for i in positions:
            if novel[i]:
                window.novel += 1
                if i in sigs:
                    novel_sigs[len(novel_rows)] = sigs[i]
                novel_rows.append(rows[i])
                novel_windows.append(window.label)
                novel_tokens.append(token_lists[i])
    state.clusters.add(novel_rows, novel_windows, novel_tokens, novel_sigs)


def _failed_rows(tracked, scores: dict, n: int) -> list[bool]:
    """Rows whose output fails at least one per-row health metric (a score below 1)."""
    failed = [False] * n
    for item in tracked:
        if item.per_row and item.label in scores:
            positions, scored = scores[item.label]
            for i, value in zip(positions, scored.per_example, strict=True):
                if value < 1:
                    failed[i] = True
    return failed


def _add_scores(window: Window, scores: dict, positions: set[int]) -> None:
    for label, (judged, scored) in scores.items():
        picked = [k for k, i in enumerate(judged) if i in positions]
        if not picked:
            continue
        per = None if scored.per_example is None else scored.per_example[picked]
        window.metrics[label].add(scored.stats[picked], per)


def summarise(state: MonitorRun, loaded) -> list[dict]:
    """Each window's measurements, oldest first (verdicts are added by the judge)."""
    from ftspec.evals.metrics import MetricContext

    spec = loaded.spec
    bootstrap = {"samples": spec.evaluation.bootstrap_samples, "confidence": spec.evaluation.confidence,
                 "seed": spec.training.seed}
    ctx = MetricContext(loaded.root)
    out = []
    for start in sorted(state.windows):
        window = state.windows[start]
        out.append({"label": window.label, "start": start.isoformat(), "end": window.end.isoformat(),
                    "rows": window.rows, "judged": window.rows >= spec.monitoring.min_window_rows,
                    "drift": window.drift(state.profile),
                    "output_failure": window.failures / window.rows if _has_health(state) else None,
                    "metrics": window.quality(state.tracked, bootstrap, ctx),
                    "novel_rows": window.novel})
    return out


def _has_health(state: MonitorRun) -> bool:
    return any(item.per_row for item in state.tracked)

