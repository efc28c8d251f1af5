"""Tracking of the whole loop beyond the trainer's curves (`tracking:` in the spec): the decision, eval metrics with
their CIs, gate verdicts, sweeps with their trials as child runs, report files as artifacts. One module per tracker,
imported only when the spec names it."""


def trackers(tracking: str | list[str]) -> list[str]:
    """`tracking: mlflow` or `tracking: [tensorboard, mlflow]` -> the names, `none` left out."""
    names = [tracking] if isinstance(tracking, str) else list(tracking)
    return [name for name in names if name != "none"]
