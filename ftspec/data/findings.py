"""AuditReport: what the data audit found. The JSON names are a contract (`audit.findings[]`, `audit.stats`)."""

# pydantic models: no `from __future__ import annotations`, so pydantic need not eval annotation strings

from typing import Literal

from pydantic import BaseModel, Field

Severity = Literal["error", "warning", "info"]


class RowRef(BaseModel):
    file: str  # relative to the current folder, or absolute outside it (fsutil.display_path)
    line: int  # 1-based; for CSV/Parquet the row number counting the header as line 1
    note: str | None = None  # e.g. "near duplicate of train.jsonl:12 (jaccard 0.93)"


class Finding(BaseModel):
    check: str  # one of ftspec.spec.vocab.AUDIT_CHECKS
    severity: Severity
    count: int
    message: str
    hint: str | None = None
    rows: list[RowRef] = Field(default_factory=list)  # the first rows where the problem is (capped)
    details: dict = Field(default_factory=dict)


class AuditReport(BaseModel):
    findings: list[Finding] = Field(default_factory=list)
    stats: dict = Field(default_factory=dict)  # per-file row counts, token lengths per model, timings

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error" and f.count]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning" and f.count]

    def clean_rows(self, split: str) -> int | None:
        """Rows of a split ('train', 'eval') that passed the blocking checks, where the audit counted them."""
        return self.stats.get("clean_rows", {}).get(split)
