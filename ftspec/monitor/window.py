"""One time window's aggregates: counts, histograms, a bounded vocabulary and reservoir samples, never the rows."""

from __future__ import annotations

import math
from collections import Counter
from datetime import date, timedelta

from ftspec.monitor.drift import Reservoir, bin_counts, ks_test, psi
from ftspec.monitor.health import LATENCY_RESERVOIR, MetricWindow, Tracked, latency_value, mean_aggregate
from ftspec.monitor.training import FEATURES, TrainingProfile

SAMPLE = 5_000  # production values kept per feature for the KS test
MAX_TERMS = 100_000  # distinct words counted per window; past it the words seen once are let go
RARE = 2  # a word seen at most this often in training is rare
GREW = 8  # terms listed as grown the most


def window_start(day: date, window: str) -> date:
    return day - timedelta(days=day.weekday()) if window == "week" else day


def window_label(start: date, window: str) -> str:
    if window == "day":
        return start.isoformat()
    year, week, _ = start.isocalendar()
    return f"{year}-W{week:02d}"


class Window:
    def __init__(self, start: date, kind: str, profile: TrainingProfile, tracked: list[Tracked], seed: int):
        self.start, self.kind = start, kind
        self.label = window_label(start, kind)
        self.rows = self.novel = self.words = self.oov = self.rare = 0
        self.failures = 0
        self.counts = {name: [0] * (len(profile.edges[name]) + 1) for name in FEATURES}
        self.samples = {name: Reservoir(SAMPLE, seed) for name in FEATURES}
        self.terms: Counter = Counter()
        self.metrics = {item.label: MetricWindow(seed) for item in tracked if item.kind != "latency"}
        self.feedback = MetricWindow(seed)
        self.latency = Reservoir(LATENCY_RESERVOIR, seed)

    @property
    def end(self) -> date:
        return self.start + timedelta(days=7 if self.kind == "week" else 1)

    def add_features(self, profile: TrainingProfile, values: dict[str, list[int]]) -> None:
        for name, column in values.items():
            if profile.edges[name] or profile.counts[name]:
                counts = bin_counts(column, profile.edges[name])
                self.counts[name] = [a + int(b) for a, b in zip(self.counts[name], counts, strict=True)]
            self.samples[name].extend(column)

    def add_words(self, vocab: Counter, token_lists: list[list[bytes]]) -> None:
        terms = self.terms
        for tokens in token_lists:
            terms.update(tokens)
            self.words += len(tokens)
            for token in tokens:
                seen = vocab.get(token, 0)
                if seen <= RARE:
                    self.rare += 1
                    if not seen:
                        self.oov += 1
        if len(terms) > MAX_TERMS:
            self.terms = Counter({term: n for term, n in terms.items() if n > 1})

    def drift(self, profile: TrainingProfile) -> dict:
        out = {"novelty": self.novel / self.rows if self.rows else None,
               "oov": self.oov / self.words if self.words else None,
               "rare": self.rare / self.words if self.words else None, "psi": {}, "ks": {}}
        for name in FEATURES:
            out["psi"][name] = psi(profile.counts[name], self.counts[name]) if profile.counts[name] else None
            test = ks_test(profile.samples[name], self.samples[name].items)
            out["ks"][name] = None if test is None else {"statistic": test[0], "pvalue": test[1]}
        out["grew"] = self.grown_terms(profile)
        return out

    def grown_terms(self, profile: TrainingProfile) -> list[dict]:
        """The words whose share of this window's words grew most over their share of training's words."""
        if not self.words:
            return []
        train_total = max(profile.words, 1)
        scored = []
        for term, n in self.terms.most_common(2000):
            if n < 3:
                break
            share, before = n / self.words, profile.vocab.get(term, 0) / train_total
            if share > before:  # the term's part of a PSI over words: new terms first, common words last
                scored.append(((share - before) * math.log((share + 1e-6) / (before + 1e-6)), term, share, before))
        scored.sort(reverse=True)
        return [{"term": term.decode("utf-8", "replace"), "share": share, "training_share": before}
                for _, term, share, before in scored[:GREW]]

    def quality(self, tracked: list[Tracked], bootstrap: dict, ctx) -> dict:
        out = {}
        for item in tracked:
            if item.kind == "latency":
                out[item.label] = latency_value(item, self.latency.items, ctx)
                continue
            scored_mean = item.metric.aggregate.startswith("mean")
            aggregate = mean_aggregate if scored_mean else _aggregate_of(item, ctx)
            out[item.label] = self.metrics[item.label].summary(aggregate, scored_mean, bootstrap)
        if self.feedback.n:
            out["feedback"] = self.feedback.summary(mean_aggregate, True, bootstrap)
        return out


def _aggregate_of(item: Tracked, ctx):
    """A corpus metric's aggregate, from a scorer run on one empty-ish batch (the aggregate is per metric)."""
    scored = item.metric.scorer()([{"prediction": "a", "reference": "a", "_key": "0"}], item.spec, ctx)
    return scored.aggregate
