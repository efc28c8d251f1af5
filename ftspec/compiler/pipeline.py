"""The front of the pipeline, shared by check, explain, build and run: load -> audit -> decide."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ftspec.compiler.plan import Plan
from ftspec.data.findings import AuditReport
from ftspec.errors import ExitCode
from ftspec.spec.load import LoadedSpec, load_spec


@dataclass
class CheckResult:
    loaded: LoadedSpec
    audit: AuditReport
    plan: Plan

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.INVALID if self.audit.errors else ExitCode.OK

    def to_json(self) -> dict:
        return {
            "ok": self.exit_code == ExitCode.OK,
            "exit_code": int(self.exit_code),
            "spec": {"path": str(self.loaded.path), "name": self.loaded.spec.name, "sha256": self.loaded.sha256},
            "errors": [],
            "audit": self.audit.model_dump(mode="json"),
            **self.plan.to_json(),
        }


def check_project(spec_path: str | Path) -> CheckResult:
    from ftspec.compiler.decide import decide
    from ftspec.data.audit import audit_data

    loaded = load_spec(spec_path)
    report = audit_data(loaded)
    return CheckResult(loaded, report, decide(loaded, report))
