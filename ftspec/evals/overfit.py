"""Overfitting from the logged curves: the eval loss rises while the train loss keeps falling.

The rule: the eval loss sits above its running minimum for `patience` (2) consecutive evaluations while the
(smoothed) train loss is lower than it was at that minimum. The report names the best step, the first step of
the rise and the step where it was confirmed, and whether early stopping fired (the log's `end` row).
Overfitting is a warning in the report, never a gate: the metrics on held-out data are the verdict.
"""

from __future__ import annotations

from ftspec.evals.runs import TrainLog

PATIENCE = 2
_SMOOTH = 5  # train rows averaged for the train loss at a step: single batches are noisy


def _train_loss_at(train: list[tuple[int, float]], step: int) -> float | None:
    before = [loss for s, loss in train if s <= step][-_SMOOTH:]
    return sum(before) / len(before) if before else None


def detect_overfitting(log: TrainLog, patience: int = PATIENCE) -> dict:
    end = log.end or {}
    found: dict = {"available": log.found, "detected": False, "step": None, "confirmed_step": None,
                   "best_step": None, "best_eval_loss": None, "eval_loss": None, "train_loss_at_best": None,
                   "train_loss": None, "evaluations": len(log.eval), "early_stopped": end.get("early_stopped"),
                   "end_status": end.get("status"), "global_step": end.get("global_step"),
                   "skipped_lines": log.skipped}
    if not log.found:
        return {**found, "message": "no train_log.jsonl in the run: the curves cannot be checked"}
    best, best_step, rising = float("inf"), None, []
    for step, loss in log.eval:
        if loss < best:
            best, best_step, rising = loss, step, []
        elif loss > best:
            rising.append((step, loss))
            if len(rising) >= patience and _train_falling(log, best_step, step):
                found.update(detected=True, step=rising[0][0], confirmed_step=step, best_step=best_step,
                             best_eval_loss=best, eval_loss=loss,
                             train_loss_at_best=_train_loss_at(log.train, best_step),
                             train_loss=_train_loss_at(log.train, step))
                return {**found, "message": _detected_message(found)}
    found.update(best_step=best_step, best_eval_loss=None if best_step is None else best)
    if len(log.eval) <= patience:
        return {**found, "message": f"{len(log.eval)} evaluation(s) logged: too few to judge overfitting"}
    return {**found, "message": f"no sign of overfitting across {len(log.eval)} evaluations"}


def _train_falling(log: TrainLog, best_step: int, step: int) -> bool:
    at_best, now = _train_loss_at(log.train, best_step), _train_loss_at(log.train, step)
    return at_best is not None and now is not None and now < at_best


def _detected_message(f: dict) -> str:
    text = (f"overfitting from step {f['step']}: eval loss rose from {f['best_eval_loss']:.4g} (its minimum, step "
            f"{f['best_step']}) to {f['eval_loss']:.4g} by step {f['confirmed_step']} while the train loss fell "
            f"from {f['train_loss_at_best']:.4g} to {f['train_loss']:.4g}")
    if f["early_stopped"]:
        return text + f"; early stopping fired (stopped at step {f['global_step']})"
    return text + "; early stopping did not fire (set training.early_stopping: true to stop at the best step)"
