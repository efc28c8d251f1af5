"""The built-in scorers, one per declaration in ftspec.metrics (each declaration names its scorer here).

A scorer turns a model's rows in one slice into per-example statistics plus an aggregate, so that the point
value and every bootstrap resample are computed the same way: `value = aggregate(stats)`, and a resample is
`aggregate(stats[idx])`. Mean metrics keep one score per example; perplexity keeps (nll, ref_tokens); BLEU and
chrF keep sacrebleu's sufficient statistics per example and recompute the corpus score from their sum.

Rows whose generation failed never reach a scorer (they fail the gate). A scorer reports apart from wrong
answers the rows it could not judge: `invalid` (a prediction that does not parse, for json_schema and
json_valid) and `missing` (a row without what the metric needs: a reference, nll or latency_ms).
"""

from __future__ import annotations

import json
import math
import re
import string
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ftspec.errors import UsageError
from ftspec.metrics import Scorers

if TYPE_CHECKING:
    import numpy as np

    from ftspec.spec.models import MetricSpec


@dataclass
class Scored:
    keys: list[str]  # the example each stats row belongs to, for pairing with a baseline
    stats: np.ndarray  # shape (n, k)
    aggregate: Callable[[np.ndarray], np.ndarray]  # (..., n, k) -> (...)
    per_example: np.ndarray | None = None  # one score per example (to rank the worst); None for corpus metrics
    wrong: int | None = None  # judged examples scoring 0; None where "wrong" has no meaning (latency)
    invalid: int = 0
    missing: int = 0
    nan: int = 0
    notes: list[str] = field(default_factory=list)  # what undermines the value: each one fails the gate
    method: str | None = None  # how the value was measured, where the report must say it (latency)

    @property
    def value(self) -> float | None:
        if len(self.keys) == 0:
            return None
        return float(self.aggregate(self.stats))

    def subset(self, keys: list[str]) -> Scored:
        """The same scores restricted to (and ordered by) `keys`, for paired comparisons."""
        where = {key: i for i, key in enumerate(self.keys)}
        idx = [where[key] for key in keys]
        per = None if self.per_example is None else self.per_example[idx]
        return Scored(list(keys), self.stats[idx], self.aggregate, per)


@dataclass
class MetricContext:
    """What a scorer may need beyond the rows: the spec's folder, to resolve a schema path."""

    root: Path
    cache: dict = field(default_factory=dict)  # compiled patterns and validators, per metric spec


def row_key(row: dict, position: int) -> str:
    """The example's id; rows without one are paired by their position in their set (`_key`, see Scorer)."""
    if "_key" in row:
        return row["_key"]
    ident = row.get("id")
    return str(ident) if ident is not None else f"#{position}"


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


# ---- aggregates (numpy is imported inside: the ftspec package import stays light)

def _mean(x):
    return x[..., 0].mean(axis=-1)


def _perplexity(x):
    import numpy as np

    with np.errstate(divide="ignore", invalid="ignore"):
        return np.exp(x[..., 0].sum(axis=-1) / x[..., 1].sum(axis=-1))


def _percentile(q: float):
    def aggregate(x):
        import numpy as np

        return np.percentile(x[..., 0], q, axis=-1)
    return aggregate


def _corpus(metric):
    """sacrebleu recomputes a corpus score from summed per-sentence statistics (as its own bootstrap does)."""
    def aggregate(x):
        import numpy as np

        sums = x.sum(axis=-2)
        flat = sums.reshape(-1, sums.shape[-1])
        scores = [metric._compute_score_from_stats([int(v) for v in row]).score for row in flat]
        return np.asarray(scores, dtype=float).reshape(sums.shape[:-1])
    return aggregate


# ---- per-example judges: (prediction, reference, row) -> score in [0, 1], or INVALID / MISSING

INVALID, MISSING = "invalid", "missing"


def _per_example(rows: list[dict], judge: Callable[[str, str | None, dict], Any]) -> Scored:
    import numpy as np

    keys, scores, invalid, missing = [], [], 0, 0
    for position, row in enumerate(rows):
        outcome = judge(row["prediction"], _text(row.get("reference")), row)
        if outcome == MISSING:
            missing += 1
            continue
        if outcome == INVALID:
            invalid += 1
            outcome = 0.0  # an unparseable output is reported apart, and it earns no credit
        keys.append(row_key(row, position))
        scores.append(float(outcome))
    per = np.asarray(scores, dtype=float)
    wrong = int((per == 0).sum()) - invalid
    return Scored(keys, per.reshape(-1, 1), _mean, per, wrong=wrong, invalid=invalid, missing=missing)


def _needs_reference(judge):
    def wrapped(prediction: str, reference: str | None, row: dict):
        return MISSING if reference is None else judge(prediction, reference)
    return wrapped


def exact_match(rows, metric, ctx) -> Scored:
    return _per_example(rows, _needs_reference(lambda p, r: float(p.strip() == r.strip())))


_PUNCTUATION = frozenset(string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD's normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def f1_tokens(prediction: str, reference: str) -> float:
    pred, ref = normalize_answer(prediction).split(), normalize_answer(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def token_f1(rows, metric, ctx) -> Scored:
    return _per_example(rows, _needs_reference(f1_tokens))


def rouge_l(rows, metric, ctx) -> Scored:
    from rouge_score import rouge_scorer

    scorer = ctx.cache.setdefault("rouge_l", rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False))
    return _per_example(rows, _needs_reference(lambda p, r: scorer.score(r, p)["rougeL"].fmeasure))


def _sacrebleu_metric(name: str):
    from sacrebleu.metrics import BLEU, CHRF

    return BLEU() if name == "bleu" else CHRF()


def _corpus_score(name: str, rows: list[dict]) -> Scored:
    import numpy as np

    judged = [(row_key(row, i), row) for i, row in enumerate(rows) if _text(row.get("reference")) is not None]
    scorer = _sacrebleu_metric(name)
    hyps = [row["prediction"] for _, row in judged]
    refs = [[row["reference"] for _, row in judged]]
    stats = np.asarray(scorer._extract_corpus_statistics(hyps, refs), dtype=float) if judged \
        else np.zeros((0, 1))
    return Scored([key for key, _ in judged], stats, _corpus(scorer), missing=len(rows) - len(judged))


def bleu(rows, metric, ctx) -> Scored:
    return _corpus_score("bleu", rows)


def chrf(rows, metric, ctx) -> Scored:
    return _corpus_score("chrf", rows)


def _parse_json(prediction: str):
    try:
        return json.loads(prediction)
    except ValueError:
        return INVALID


def json_valid(rows, metric, ctx) -> Scored:
    return _per_example(rows, lambda p, r, row: INVALID if _parse_json(p) is INVALID else 1.0)


def json_schema(rows, metric, ctx) -> Scored:
    validator = _validator(metric, ctx)

    def judge(prediction, reference, row):
        document = _parse_json(prediction)
        if document is INVALID:
            return INVALID
        return float(validator.is_valid(document))
    return _per_example(rows, judge)


def _validator(metric: MetricSpec, ctx: MetricContext):
    import jsonschema

    key = ("schema", json.dumps(metric.schema_, sort_keys=True))
    if key in ctx.cache:
        return ctx.cache[key]
    schema = metric.schema_
    if isinstance(schema, str):
        path = ctx.root / schema
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot read the JSON Schema {schema}: {exc}",
                             "the schema path is relative to the spec file and must hold JSON") from None
    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise UsageError(f"the json_schema metric's schema is not a valid JSON Schema: {exc.message}",
                         "check it with a JSON Schema validator; https://json-schema.org") from None
    ctx.cache[key] = cls(schema)
    return ctx.cache[key]


def _compiled(metric: MetricSpec, ctx: MetricContext) -> re.Pattern:
    key = ("pattern", metric.pattern)
    if key not in ctx.cache:
        try:
            ctx.cache[key] = re.compile(metric.pattern or "")
        except re.error as exc:
            raise UsageError(f"the regex metric's pattern {metric.pattern!r} does not compile: {exc}",
                             "write a Python regular expression; it must match the whole prediction") from None
    return ctx.cache[key]


def regex(rows, metric, ctx) -> Scored:
    pattern = _compiled(metric, ctx)
    # surrounding whitespace is trimmed, as for exact_match: a trailing newline is no format error
    return _per_example(rows, lambda p, r, row: float(pattern.fullmatch(p.strip()) is not None))


def contains(rows, metric, ctx) -> Scored:
    needle = metric.pattern or ""
    return _per_example(rows, lambda p, r, row: float(needle in p))


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _numeric(rows: list[dict], fields: tuple[str, ...], aggregate) -> Scored:
    """Rows that carry every field as a number; absent fields count as missing, NaN or inf as nan."""
    import numpy as np

    keys, stats, missing, nan = [], [], 0, 0
    for position, row in enumerate(rows):
        values = [_number(row.get(name)) for name in fields]
        if any(v is None for v in values):
            missing += 1
        elif not all(math.isfinite(v) for v in values):
            nan += 1
        else:
            keys.append(row_key(row, position))
            stats.append(values)
    array = np.asarray(stats, dtype=float).reshape(len(keys), len(fields))
    return Scored(keys, array, aggregate, missing=missing, nan=nan)


def perplexity(rows, metric, ctx) -> Scored:
    scored = _numeric(rows, ("nll", "ref_tokens"), _perplexity)
    if len(scored.keys) and scored.stats[:, 1].sum() <= 0:
        scored.notes.append("the references have 0 tokens in all")
    return scored


def _latency(rows: list[dict], q: float) -> Scored:
    """eval.py times a seeded sample of each slice one request at a time and marks those rows `timed`; the other
    rows carry no latency and are not counted as missing. Rows without the `timed` key come from an older eval.py,
    whose latency was its batch's wall time divided by the batch size: they are scored as they are, and said so."""
    legacy = not any("timed" in row for row in rows)
    timed = rows if legacy else [row for row in rows if row.get("timed")]
    scored = _numeric(timed, ("latency_ms",), _percentile(q))
    if legacy:
        scored.method = ("batch wall time divided by the batch size (predictions from an older eval.py: rebuild "
                         "to time requests one at a time)")
    else:
        scored.method = f"per request at batch size 1, on a seeded sample of {len(timed)} of {len(rows)} rows"
    return scored


def latency_p50(rows, metric, ctx) -> Scored:
    return _latency(rows, 50)


def latency_p95(rows, metric, ctx) -> Scored:
    return _latency(rows, 95)


def row_mean(score_row: Callable[[dict], float | None]):
    """A scorer from a per-row function (a human rating, a judge score): the mean of the rows' scores; a row whose
    function returns None is missing. For a new metric declaration: `Metric(..., score=row_mean(fn))`."""
    def score(rows, metric, ctx) -> Scored:
        scored = _per_example(rows, lambda p, r, row: MISSING if (v := score_row(row)) is None else v)
        scored.wrong = None  # a score of 0 is no "wrong answer" on an arbitrary scale
        return scored
    return score


# name -> scorer, read from the declarations in ftspec.metrics (kept for callers of the first wave)
REGISTRY: Mapping[str, Callable[[list[dict], MetricSpec, MetricContext], Scored]] = Scorers()


def metric_label(metric: MetricSpec) -> str:
    """A name that tells apart two metrics of the same kind (two regexes, two schemas)."""
    if metric.pattern is not None:
        return f"{metric.name}({metric.pattern})"
    if getattr(metric, "criterion", None) is not None:
        return f"{metric.name}({metric.criterion})"
    if isinstance(metric.schema_, str):
        return f"{metric.name}({metric.schema_})"
    return metric.name
