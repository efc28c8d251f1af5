"""Data audit stage of `ftspec check`: every check over every data file of the spec (see ftspec.data.audit)."""

from __future__ import annotations

from ftspec.compiler.findings import AuditReport
from ftspec.spec.load import LoadedSpec


def audit(loaded: LoadedSpec) -> AuditReport:
    from ftspec.data.audit import audit_data

    return audit_data(loaded)
