"""Decision engine (placeholder until the decision engine lands)."""

from __future__ import annotations

from ftspec.compiler.findings import AuditReport
from ftspec.compiler.plan import DataPlan, Decision, Plan, PromptFormat
from ftspec.spec.load import LoadedSpec


def decide(loaded: LoadedSpec, audit: AuditReport | None) -> Plan:
    spec = loaded.spec
    return Plan(project=spec.name, decision=Decision(approach="fine_tuning"), method=None, model=None,
                prompt_format=PromptFormat(kind="template"),
                data=DataPlan(format=spec.data.format, train=list(spec.data.train)))
