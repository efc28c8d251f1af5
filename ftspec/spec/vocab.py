"""Closed vocabularies of the spec language that are not Literals in ftspec.spec.models.

Metric names are not closed: each is a declaration in ftspec.metrics."""

from __future__ import annotations

FIXED_SLICES = ("all", "adversarial", "regression")

# Audit checks (a contract: these names appear in `audit.findings[].check`) and their default severity.
AUDIT_CHECKS: dict[str, str] = {
    "parse_error": "error", "schema_error": "error", "empty_field": "error", "placeholder": "warning",
    "exact_duplicate": "warning", "near_duplicate": "warning", "conflicting_label": "warning", "leakage": "error",
    "too_long": "warning", "format_mismatch": "warning", "size": "warning",
    "encoding": "warning",
}

# The canonical fields of each data format; `data.fields` maps these onto a user's column names.
FORMAT_FIELDS: dict[str, tuple[str, ...]] = {
    "instruction": ("instruction", "input", "output"),
    "prompt_completion": ("prompt", "completion"),
    "chat": ("messages",),
    "preference": ("prompt", "chosen", "rejected"),
}
OPTIONAL_FIELDS = ("id", "tags")
