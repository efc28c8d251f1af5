"""`ftspec metrics`: the metrics a spec can gate on, from the registry (ftspec.metrics)."""

from __future__ import annotations


def metrics_command(as_json: bool = False) -> int:
    from ftspec.metrics import METRICS

    if as_json:
        from ftspec.ui.console import print_json

        print_json({name: {"higher_is_better": m.higher_is_better, "needs": m.needs, "doc": m.doc,
                           "low": m.low, "high": m.high, "unit": m.unit}
                    for name, m in METRICS.items()})
        return 0
    from rich.table import Table

    from ftspec.ui.console import console

    table = Table("metric", "better", "range", "needs", "what it measures", box=None)
    for name, info in METRICS.items():
        table.add_row(name, info.direction, info.range_text(), info.needs or "", info.doc)
    console().print(table)
    return 0
