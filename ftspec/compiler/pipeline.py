"""The front of the pipeline, shared by check, explain, build and run: load -> audit -> decide."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ftspec.compiler.plan import Plan
from ftspec.data.findings import AuditReport
from ftspec.errors import ExitCode, Problem
from ftspec.spec.load import LoadedSpec, load_spec


@dataclass
class CheckResult:
    loaded: LoadedSpec
    audit: AuditReport
    plan: Plan
    warnings: list[Problem] = field(default_factory=list)  # located, not blocking: e.g. few-shot prompts too long

    @property
    def blocking(self) -> list[dict]:
        """What stops `ftspec build` (short of --force), as build refuses: blocking data problems, then each unmet
        blocking prerequisite. `check` exits 2 while any remain, so its verdict and build's agree."""
        checks = sorted({f.check for f in self.audit.errors})
        found = [{"name": "clean_data", "hint": f"the data audit found blocking problems ({', '.join(checks)})"}]
        return (found if checks else []) + [{"name": p.name, "hint": p.hint} for p in self.plan.decision.blocked
                                            if not (checks and p.name == "clean_data")]

    @property
    def ok(self) -> bool:
        """Ready to build: nothing blocks it."""
        return not self.blocking

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.ok else ExitCode.INVALID

    def to_json(self) -> dict:
        return {
            "ok": self.ok,
            "exit_code": int(self.exit_code),
            "spec": {"path": str(self.loaded.path), "name": self.loaded.spec.name, "sha256": self.loaded.sha256},
            "errors": [],
            "blocking": self.blocking,
            "warnings": [w.to_json() for w in self.warnings],
            "audit": self.audit.model_dump(mode="json"),
            **self.plan.to_json(),
        }


def check_project(spec_path: str | Path, engine: str = "local", address: str | None = None) -> CheckResult:
    from ftspec.compiler.decide import decide
    from ftspec.data.audit import audit_data

    loaded = load_spec(spec_path)
    if engine == "local" and address is None:
        report = audit_data(loaded)
    else:  # ftspec check --engine ray: the same audit on Ray Data
        from ftspec.data.engines import make_auditor

        report = make_auditor(loaded, None, engine, address).run()
    plan = decide(loaded, report)
    return CheckResult(loaded, report, plan, check_warnings(loaded, report, plan))


def check_warnings(loaded: LoadedSpec, report: AuditReport, plan: Plan) -> list[Problem]:
    """What will go wrong later though nothing blocks the build: said now, where the spec can change it."""
    from ftspec.compiler.fewshot import few_shot_overflow

    found = [few_shot_overflow(loaded, report, plan)]
    return [w for w in found if w is not None]
