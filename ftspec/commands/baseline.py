"""`ftspec baseline SPEC [--model NAME] [--json]`: measure the prompting ladder before training, then show the
rungs and the decision that now follows from them."""

from __future__ import annotations

from pathlib import Path

from ftspec.errors import ExitCode


def baseline_command(spec: Path, model: str | None = None, as_json: bool = False) -> int:
    from ftspec.baseline.measure import measure_baselines

    records, after = measure_baselines(spec, model)
    if as_json:
        from ftspec.ui.console import print_json

        print_json({"baselines": records, "decision": after.plan.decision.model_dump(mode="json")})
    else:
        from ftspec.ui.baseline import show_baseline

        show_baseline(records, after.plan.decision)
    return int(ExitCode.OK)
