"""The monitor stage: read the logs, judge them, write monitor/<id>/ (`ftspec monitor`, ftspec/commands/monitor.py).

Exit codes: 0 ok or watch; 1 re-fine-tune advised; 2 bad input (no logs, an unreadable file, no usable rows, or
more bad rows than monitoring.max_bad_rows).
"""

from __future__ import annotations

import json
from pathlib import Path

from ftspec.errors import UsageError
from ftspec.runtime.rundir import create_run_dir


def monitor_root(spec_path: Path) -> Path:
    return spec_path.resolve().parent / "monitor"


def log_files(loaded, given: list[Path] | None) -> list[tuple[Path, str]]:
    """--logs (relative to the working folder) wins over monitoring.logs (relative to the spec)."""
    if given:
        files = [(Path(p), str(p)) for p in given]
    else:
        files = [(loaded.resolve(name), name) for name in loaded.spec.monitoring.logs]
    if not files:
        raise UsageError("no production logs to monitor",
                         "pass --logs PATH, or list them under monitoring.logs in the spec")
    for path, name in files:
        if not path.is_file():
            raise UsageError(f"log file not found: {name}", "JSONL, CSV or Parquet; a path in monitoring.logs is "
                                                            "relative to the spec")
    return files


def run_monitor(spec: Path, logs: list[Path] | None = None, out: Path | None = None) -> tuple[dict, Path]:
    """Judge the logs and write report.json, report.html and (with refine_tune) refine_sample.jsonl."""
    from ftspec.fsutil import atomic_write_text
    from ftspec.monitor.engine import monitor_logs
    from ftspec.monitor.html import monitor_html
    from ftspec.monitor.report import build_report, refine_sample, sample_record
    from ftspec.spec.load import load_spec

    loaded = load_spec(spec)
    files = log_files(loaded, logs)
    state = monitor_logs(loaded, files)
    folder = create_run_dir(out if out is not None else monitor_root(spec))  # never overwrites earlier results
    report = build_report(state, loaded, [name for _, name in files], folder.name)
    report["files"] = {"folder": str(folder), "report.json": str(folder / "report.json"),
                       "report.html": str(folder / "report.html")}
    if report["plan"] is not None:
        data = loaded.spec.data
        sample = [sample_record(entry, cluster, data.format, data.fields)
                  for entry, cluster in refine_sample(state, loaded.spec.monitoring.sample_size)]
        path = folder / "refine_sample.jsonl"
        atomic_write_text(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in sample))
        report["plan"]["sample_rows"] = len(sample)
        report["files"]["refine_sample.jsonl"] = str(path)
    atomic_write_text(folder / "report.json", json.dumps(report, indent=2) + "\n")
    atomic_write_text(folder / "report.html", monitor_html(report))
    return report, folder
