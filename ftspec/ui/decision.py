"""Rich rendering of the decision (placeholder until the decision engine lands)."""

from __future__ import annotations

from rich.text import Text

from ftspec.compiler.plan import Plan


def render_decision(plan: Plan, full: bool = False):
    return Text(f"decision: {plan.decision.approach}")
