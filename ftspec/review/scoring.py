"""The human metrics' scorers (declared in ftspec.metrics): one value per reviewed row, the annotators' mean.
Rows nobody reviewed are not counted as missing: a review covers a sample of the eval set by design."""

from __future__ import annotations

from ftspec.evals.metrics import _per_example


def _reviewed(rows: list[dict], value) -> object:
    judged = [row for row in rows if value(row) is not None]
    scored = _per_example(judged, lambda prediction, reference, row: value(row))
    scored.wrong = None  # a low rating is no "wrong answer"
    return scored


def _criterion_mean(criterion: str | None):
    def value(row: dict) -> float | None:
        found = (row.get("human") or {}).get("ratings", {}).get(criterion)
        return sum(found) / len(found) if found else None
    return value


def human_rating(rows, metric, ctx):
    return _reviewed(rows, _criterion_mean(metric.criterion))


def human_pass_rate(rows, metric, ctx):
    return _reviewed(rows, _criterion_mean(metric.criterion))


def human_win_rate(rows, metric, ctx):
    def value(row: dict) -> float | None:
        wins = (row.get("human") or {}).get("wins")
        return sum(wins) / len(wins) if wins else None
    scored = _reviewed(rows, value)
    ties = sum((row.get("human") or {}).get("ties", 0) for row in rows)
    judged = sum(len((row.get("human") or {}).get("wins", [])) for row in rows)
    scored.method = f"{judged} pairwise judgements; {ties} ties counted apart (left out of the rate)"
    return scored


def _pair_win(row: dict) -> float | None:
    chosen, rejected = row.get("chosen_score"), row.get("rejected_score")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (chosen, rejected)):
        return None
    return 1.0 if chosen > rejected else 0.5 if chosen == rejected else 0.0


def _pair_margin(row: dict) -> float | None:
    chosen, rejected = row.get("chosen_score"), row.get("rejected_score")
    return None if _pair_win(row) is None else float(chosen) - float(rejected)


def pairwise_accuracy(rows, metric, ctx):
    """A reward model's rows carry the scores of the pair's chosen and rejected answers; a row without them is
    missing (and fails the gate, as for any metric). The report's line says the mean margin and the ties beside it."""
    from ftspec.evals.metrics import row_mean

    scored = row_mean(_pair_win)(rows, metric, ctx)
    margins = [m for m in map(_pair_margin, rows) if m is not None]
    if margins:
        ties = sum(m == 0 for m in margins)
        scored.method = (f"{len(margins)} held-out pairs scored by the reward model; mean margin (chosen - rejected) "
                         f"{sum(margins) / len(margins):.4g}; {ties} ties counted half")
    return scored


def reward_margin(rows, metric, ctx):
    """The mean of the reward model's score of the chosen answer minus its score of the rejected one."""
    from ftspec.evals.metrics import row_mean

    return row_mean(_pair_margin)(rows, metric, ctx)
