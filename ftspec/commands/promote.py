"""`ftspec promote RUN` records a run as the project's current model; `ftspec models` lists the promoted ones
(ftspec.versions.registry, models.json beside the spec). A run that did not pass its gates exits 1 without --force."""

from __future__ import annotations

from pathlib import Path


def promote_command(run: str, spec: Path | None = None, force: bool = False, as_json: bool = False) -> int:
    from ftspec.versions.registry import promote_project

    promoted = promote_project(spec, run, force=force)
    if as_json:
        from ftspec.ui.console import print_json

        print_json(promoted.entry)
    else:
        from ftspec.ui.versions import show_promoted

        show_promoted(promoted.entry, promoted.registry)
    return 0


def models_command(spec: Path | None = None, as_json: bool = False) -> int:
    from ftspec.versions.registry import project_registry

    registry = project_registry(spec)
    if as_json:
        from ftspec.ui.console import print_json

        print_json(registry)
    else:
        from ftspec.ui.versions import show_models

        show_models(registry["history"], registry.get("promoted"))
    return 0
