"""`ftspec review export | import | preferences`: human review of a run's outputs (ftspec.review), as a summary or
one JSON document."""

from __future__ import annotations

from pathlib import Path


def _show(result: dict, as_json: bool, view: str) -> int:
    if as_json:
        from ftspec.ui.console import print_json

        print_json(result)
    else:
        from ftspec.ui import review

        getattr(review, view)(result)
    return 0


def _project(spec: Path | None):
    from ftspec.spec.load import load_spec
    from ftspec.versions.refs import find_spec

    return load_spec(find_spec(spec))


def review_export_command(run: str, out: Path, against: str | None = None, spec: Path | None = None,
                          as_json: bool = False) -> int:
    from ftspec.review.export import export_review
    from ftspec.versions.refs import resolve_run

    loaded = _project(spec)
    return _show(export_review(loaded, resolve_run(loaded, run), Path(out), against), as_json, "show_review_export")


def review_import_command(file: Path, run: str | None = None, spec: Path | None = None, as_json: bool = False) -> int:
    from ftspec.review.importer import import_reviews

    return _show(import_reviews(_project(spec), Path(file), run), as_json, "show_review_import")


def review_preferences_command(run: str, out: Path, spec: Path | None = None, as_json: bool = False) -> int:
    from ftspec.review.preferences import export_preferences
    from ftspec.versions.refs import resolve_run

    loaded = _project(spec)
    return _show(export_preferences(resolve_run(loaded, run), Path(out)), as_json, "show_review_preferences")
