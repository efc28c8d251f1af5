"""Data audit (placeholder until the audit lands): returns an empty report."""

from __future__ import annotations

from ftspec.compiler.findings import AuditReport
from ftspec.spec.load import LoadedSpec


def audit(loaded: LoadedSpec) -> AuditReport:
    return AuditReport()
