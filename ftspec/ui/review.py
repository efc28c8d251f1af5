"""Rich views of `ftspec review`: what an export wrote, what an import stored, what a preference export holds."""

from __future__ import annotations

from ftspec.ui.console import console


def show_review_export(result: dict) -> None:
    out = console()
    against = f" against {result['against']}" if result["against"] else ""
    out.print(f"[bold]review export[/] of run {result['run']}{against}: {result['rows']} rows "
              f"({result['changed_first']} changed rows first), seed {result['seed']}, "
              f"{result['annotators_per_task']} annotator(s) per task")
    for name in result["files"]:
        out.print(f"  {result['out']}/{name}")
    checked = [f"{kind}: {result[f'{kind}_checked_by_sdk']} tasks" for kind in ("rating", "pairwise")
               if f"{kind}_checked_by_sdk" in result]
    out.print("Label Studio's parser checked " + "; ".join(checked) if checked else "")
    out.print("Import the tasks JSON into a Label Studio project with the config XML as its labeling interface; "
              "bring the JSON export back with `ftspec review import FILE`.")


def show_review_import(result: dict) -> None:
    console().print(f"[bold]review import[/]: {result['ratings']} ratings and {result['preferences']} pairwise "
                    f"judgements from {result['file']} stored in {result['folder']}; `ftspec eval` now scores the "
                    "human metrics")


def show_review_preferences(result: dict) -> None:
    console().print(f"[bold]preferences[/]: {result['rows']} pairs written to {result['out']} "
                    f"({result['undecided']} ties or split votes left out); check them with `ftspec data audit`")
