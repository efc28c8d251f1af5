"""`ftspec metrics`: the metrics a spec can gate on."""

from __future__ import annotations


def metrics_command(as_json: bool = False) -> int:
    from ftspec.spec.vocab import METRICS

    if as_json:
        from ftspec.ui.console import print_json

        print_json({name: {"higher_is_better": m.higher_is_better, "needs": m.needs, "doc": m.doc}
                    for name, m in METRICS.items()})
        return 0
    from rich.table import Table

    from ftspec.ui.console import console

    table = Table("metric", "better", "needs", "what it measures", box=None)
    for name, info in METRICS.items():
        table.add_row(name, "higher" if info.higher_is_better else "lower", info.needs or "", info.doc)
    console().print(table)
    return 0
