"""`ftspec monitor SPEC [--logs PATH] [--out DIR] [--json]`: judge production logs; exit 0 ok or watch, 1
re-fine-tune advised, 2 bad input."""

from __future__ import annotations

import os
from pathlib import Path


def monitor_command(spec: Path, logs: list[Path] | None = None, out: Path | None = None,
                    as_json: bool = False) -> int:
    from ftspec.monitor.command import run_monitor

    report, _ = run_monitor(spec, logs, out)
    if as_json:
        from ftspec.ui.console import print_json

        print_json(report)
    else:
        from ftspec.ui.monitor import show_monitor

        show_monitor(report)
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as handle:
            handle.write(f"ftspec monitor: **{report['verdict']}** ({report['files']['report.html']})\n")
    return report["exit_code"]
