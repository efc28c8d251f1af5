"""Rich rendering of an AuditReport (placeholder until the audit lands)."""

from __future__ import annotations

from rich.text import Text

from ftspec.compiler.findings import AuditReport


def render_audit(report: AuditReport):
    return Text(f"data: {len(report.findings)} findings")
