"""Which project and which run a versions command names.

The spec is --spec, else project.yaml in the working folder. A run reference follows the one rule of
ftspec.runtime.rundir.Runs (`last`, an id or a unique prefix of one); `promoted` is first turned into an id by the
model registry (ftspec.versions.registry), then resolved the same way.
"""

from __future__ import annotations

from pathlib import Path

from ftspec.errors import UsageError
from ftspec.runtime.rundir import RunDir, Runs

PROMOTED = "promoted"
_PICK_HINT = "pass --run with `last`,"  # Runs.pick's hint names eval's option; here a run is a positional argument


def find_spec(spec: Path | None) -> Path:
    """The project spec: --spec, else project.yaml in the working folder."""
    path = Path(spec) if spec is not None else Path("project.yaml")
    if not path.is_file():
        raise UsageError(f"no spec at {path}", "pass --spec PATH (the project's YAML spec)")
    return path


def resolve_run(loaded, ref: str) -> RunDir:
    """A run folder of the spec's runs/ from `last`, `promoted`, an id or a unique prefix of one."""
    if ref == PROMOTED:
        from ftspec.versions.registry import promoted_run_id

        ref = promoted_run_id(loaded.root)
    try:
        return Runs.for_spec(loaded.path).pick(ref)
    except UsageError as exc:
        hint = exc.hint.replace(_PICK_HINT, "name a run by `last`, `promoted`,") if exc.hint else exc.hint
        raise UsageError(str(exc), hint) from None
