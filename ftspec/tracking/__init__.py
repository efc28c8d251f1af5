"""Tracking of the whole loop beyond the trainer's curves (`tracking:` in the spec): the decision, eval metrics with
their CIs, gate verdicts, sweeps with their trials as child runs, report files as artifacts. One module per tracker,
imported only when the spec names it."""


def trackers(tracking) -> list[str]:
    """`tracking: mlflow`, `tracking: [tensorboard, mlflow]` or `{backend: mlflow, uri: ...}` entries -> the names,
    `none` left out."""
    names = [_name(entry) for entry in (tracking if isinstance(tracking, list) else [tracking])]
    return [name for name in names if name != "none"]


def plain(tracking) -> str | list[str]:
    """The spec's `tracking:` as names only, as the plan holds it: a string stays a string."""
    return [_name(entry) for entry in tracking] if isinstance(tracking, list) else _name(tracking)


def configured_uri(tracking, backend: str = "mlflow") -> str | None:
    """The `uri` a `{backend: ..., uri: ...}` entry gives that tracker, else None (its default)."""
    entries = tracking if isinstance(tracking, list) else [tracking]
    return next((entry.uri for entry in entries if not isinstance(entry, str) and entry.backend == backend
                 and entry.uri), None)


def _name(entry) -> str:
    return entry if isinstance(entry, str) else entry.backend
