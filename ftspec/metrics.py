"""The metric registry: one declaration per metric, read by every stage that meets a metric.

A declaration says what the metric means (direction, range, unit), what it reads from each predictions.jsonl row,
how a row is scored and how the rows aggregate and bootstrap, what fails its gate, how it draws, and whether the
data audit can check training targets against it. The spec (names, thresholds), the data audit (size, targets), the
compiler (what eval.py must record) and the evals (scores, gates, reports, HTML) all read these declarations, so a
new kind of metric (a human rating, a retrieval score, a judge score) is one `register(Metric(...))`.

This module imports nothing heavy: scorers and target rules are named as "module:function" and imported when first
used, so `check` can read names, directions, ranges and units without numpy, rouge or sacrebleu.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

RESAMPLE = "examples resampled with replacement, the aggregate recomputed on each resample (percentile CI)"


@dataclass(frozen=True)
class Metric:
    name: str
    doc: str
    higher_is_better: bool
    # (rows, metric spec, MetricContext) -> ftspec.evals.metrics.Scored; a function or "module:function"
    score: str | Callable[..., Any]
    low: float | None = None  # the range every value lies in; None: unbounded on that side
    high: float | None = None
    unit: str = ""  # "ms" for times; "" for a plain number
    fields: tuple[str, ...] = ("prediction", "reference")  # what it reads from each predictions.jsonl row
    needs: str | None = None  # the metric spec key it requires: "pattern" or "schema"
    aggregate: str = "mean of the per-example scores"
    bootstrap: str = RESAMPLE
    share: bool = False  # per-example scores in [0, 1]: a rate (percent thresholds, size check, worst examples)
    invalid_fails_gate: bool = True  # unparseable predictions fail the gate (not for json_valid: it bounds them)
    target_rule: str | Callable[..., Any] | None = None  # data audit: (metric spec, loaded spec) -> target test

    @property
    def direction(self) -> str:
        return "higher" if self.higher_is_better else "lower"

    @property
    def span(self) -> float | None:
        """The width of the range: the largest possible margin between two models; None if unbounded."""
        return None if self.low is None or self.high is None else self.high - self.low

    @property
    def row_needs(self) -> str:
        """What a row must carry to be scored, in words (rows without it are reported as missing)."""
        extra = [f for f in self.fields if f != "prediction"]
        return " and ".join(extra) if extra else "a prediction"

    def range_text(self) -> str:
        low = "-∞" if self.low is None else f"{self.low:g}"
        high = "∞" if self.high is None else f"{self.high:g}"
        return f"[{low}, {high}]" + (f" {self.unit}" if self.unit else "")

    def scorer(self) -> Callable[..., Any]:
        return _resolve(self.score)

    def target_builder(self) -> Callable[..., Any] | None:
        return None if self.target_rule is None else _resolve(self.target_rule)


def _resolve(ref: str | Callable[..., Any]) -> Callable[..., Any]:
    if callable(ref):
        return ref
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


METRICS: dict[str, Metric] = {}


def register(metric: Metric, *, replace: bool = False) -> Metric:
    """Add a metric kind; every stage sees it from then on (the spec accepts its name, eval scores and gates it)."""
    if metric.name in METRICS and not replace:
        raise ValueError(f"metric `{metric.name}` is already registered")
    METRICS[metric.name] = metric
    return metric


def unregister(name: str) -> None:
    METRICS.pop(name, None)


def get(name: str) -> Metric:
    return METRICS[name]


def name_of(label: str) -> str:
    """The metric name in a report label: `regex(^\\d+$)` -> `regex`."""
    return label.split("(", 1)[0]


class Scorers(Mapping):
    """name -> scorer, read from the declarations (imports each scorer's module on first use)."""

    def __getitem__(self, name: str) -> Callable[..., Any]:
        return METRICS[name].scorer()

    def __iter__(self) -> Iterator[str]:
        return iter(METRICS)

    def __len__(self) -> int:
        return len(METRICS)


_SCORERS = "ftspec.evals.metrics"
_TARGETS = "ftspec.data.targets"
_RETRIEVAL = "ftspec.evals.retrieval_metrics"
_SHARE = {"low": 0.0, "high": 1.0, "share": True}
_TIME = {"low": 0.0, "high": None, "unit": "ms", "fields": ("latency_ms",),
         "bootstrap": RESAMPLE + "; only the rows timed one request at a time (batch size 1) count"}
_CORPUS = {"low": 0.0, "high": 100.0, "aggregate": "the corpus score recomputed from summed per-example statistics"}

for _metric in (
    Metric("exact_match", "prediction equals the reference after trimming whitespace", True,
           f"{_SCORERS}:exact_match", **_SHARE),
    Metric("token_f1", "SQuAD-style token overlap F1", True, f"{_SCORERS}:token_f1", **_SHARE),
    Metric("rouge_l", "ROUGE-L F-measure (rouge-score)", True, f"{_SCORERS}:rouge_l", **_SHARE),
    Metric("bleu", "corpus BLEU, 0-100 (sacrebleu)", True, f"{_SCORERS}:bleu", **_CORPUS),
    Metric("chrf", "corpus chrF, 0-100 (sacrebleu)", True, f"{_SCORERS}:chrf", **_CORPUS),
    Metric("json_valid", "share of predictions that parse as JSON", True, f"{_SCORERS}:json_valid",
           fields=("prediction",), invalid_fails_gate=False, target_rule=f"{_TARGETS}:json_valid_rule", **_SHARE),
    Metric("json_schema", "share of predictions valid under a JSON Schema", True, f"{_SCORERS}:json_schema",
           fields=("prediction",), needs="schema", target_rule=f"{_TARGETS}:json_schema_rule", **_SHARE),
    Metric("regex", "share of predictions fully matching a pattern", True, f"{_SCORERS}:regex",
           fields=("prediction",), needs="pattern", target_rule=f"{_TARGETS}:regex_rule", **_SHARE),
    Metric("contains", "share of predictions containing a string", True, f"{_SCORERS}:contains",
           fields=("prediction",), needs="pattern", target_rule=f"{_TARGETS}:contains_rule", **_SHARE),
    Metric("perplexity", "perplexity of the reference under the model", False, f"{_SCORERS}:perplexity",
           low=1.0, fields=("nll", "ref_tokens"), aggregate="exp(summed nll / summed reference tokens)"),
    Metric("latency_p50", "median latency of one request (batch size 1), in ms", False,
           f"{_SCORERS}:latency_p50", aggregate="50th percentile of the timed requests", **_TIME),
    Metric("latency_p95", "95th-percentile latency of one request (batch size 1), in ms", False,
           f"{_SCORERS}:latency_p95", aggregate="95th percentile of the timed requests", **_TIME),
    Metric("recall_at_k", "share of the eval row's gold documents among those retrieved (RAG)", True,
           f"{_RETRIEVAL}:recall_at_k_metric", fields=("retrieved", "gold_documents"), **_SHARE),
    Metric("mrr", "mean reciprocal rank of the first gold document retrieved (RAG)", True,
           f"{_RETRIEVAL}:mrr_metric", fields=("retrieved", "gold_documents"), **_SHARE),
    Metric("cites", "share of answers citing a retrieved document as [id] (RAG)", True,
           f"{_RETRIEVAL}:cites_metric", fields=("prediction", "retrieved"), **_SHARE),
):
    register(_metric)

_HUMAN = "ftspec.review.scoring"
_REVIEWED = {"fields": ("human",), "bootstrap": RESAMPLE + "; only the reviewed rows count"}
for _metric in (  # issue 17: the imported reviews of the run (`ftspec review import`), one value per reviewed row
    Metric("human_rating", "mean human rating of a rubric criterion (the annotators' mean per row)", True,
           f"{_HUMAN}:human_rating", low=1.0, high=10.0, needs="criterion", **_REVIEWED),
    Metric("human_pass_rate", "share of passes on a pass_fail rubric criterion (annotators' mean per row)", True,
           f"{_HUMAN}:human_pass_rate", needs="criterion", **_REVIEWED, **_SHARE),
    Metric("human_win_rate", "share of blind pairwise judgements preferring this run (ties counted apart)", True,
           f"{_HUMAN}:human_win_rate", **_REVIEWED, **_SHARE),
    Metric("pairwise_accuracy", "reward model: share of held-out pairs whose chosen answer scores higher (tie: half)",
           True, f"{_HUMAN}:pairwise_accuracy", fields=("chosen_score", "rejected_score"), **_SHARE),
    Metric("reward_margin", "reward model: mean score of the chosen answer minus that of the rejected one, on "
           "held-out pairs", True, f"{_HUMAN}:reward_margin", fields=("chosen_score", "rejected_score")),
):
    register(_metric)


def metrics_markdown() -> str:
    """The table docs/spec.md shows (a test keeps the two in step)."""
    lines = ["| metric | better | range | unit | reads | meaning |", "|---|---|---|---|---|---|"]
    for m in METRICS.values():
        low = "-∞" if m.low is None else f"{m.low:g}"
        high = "∞" if m.high is None else f"{m.high:g}"
        reads = ", ".join(f"`{f}`" for f in m.fields) + (f"; spec key `{m.needs}`" if m.needs else "")
        lines.append(f"| `{m.name}` | {m.direction} | {low} to {high} | {m.unit or '-'} | {reads} | {m.doc} |")
    return "\n".join(lines) + "\n"
