"""The audit's engines behind one interface: `local` (one process, ftspec.data.audit) and `ray` (Ray Data,
ftspec.data.engines.ray_engine; the `ray` extra). Both decide with the same Auditor, so their findings agree."""

from __future__ import annotations

ENGINES = ("local", "ray")


def make_auditor(loaded, sink=None, engine: str = "local", address: str | None = None):
    """An auditor with .run() -> AuditReport for the engine named; ray is imported only for engine ray."""
    from ftspec.errors import UsageError

    if engine == "local":
        if address is not None:
            raise UsageError("--address names a Ray cluster", "add --engine ray, or drop --address")
        from ftspec.data.audit import Auditor

        return Auditor(loaded, sink)
    if engine == "ray":
        from ftspec.data.engines.ray_engine import RayAuditor

        return RayAuditor(loaded, sink, address=address)
    raise UsageError(f"unknown engine {engine!r}", f"use one of: {', '.join(ENGINES)}")
