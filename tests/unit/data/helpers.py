"""Shared helpers for the data audit tests (fixtures live in conftest.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ftspec.data.findings import AuditReport, Finding
from ftspec.spec.load import load_spec

# ../shared beside the checkout, as CI lays it out; FTSPEC_SHARED_DATA names the data folder elsewhere.
SHARED_DATA = Path(os.environ.get("FTSPEC_SHARED_DATA") or
                   Path(__file__).resolve().parents[3].parent / "shared" / "data")
GPTEACHER = SHARED_DATA / "gpteacher" / "toolformer-dedupe-only.json"


def jsonl(rows: list) -> str:
    """One line per item: dicts and lists as JSON, strings as they are (to plant broken lines)."""
    return "".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows)


def run_audit(spec: Path) -> AuditReport:
    from ftspec.data.audit import audit_data

    return audit_data(load_spec(spec))


def finding(report: AuditReport, check: str) -> Finding:
    matches = [f for f in report.findings if f.check == check]
    assert len(matches) == 1, f"expected one `{check}` finding, got {len(matches)}"
    return matches[0]


def lines(report: AuditReport, check: str) -> list[int]:
    return [row.line for row in finding(report, check).rows]
