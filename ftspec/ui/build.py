"""What `ftspec build` prints: the files it generated and the exact command that runs each script."""

from __future__ import annotations

import os

from ftspec.ui.console import console, print_json


def show_build(built, as_json: bool) -> None:
    from ftspec.compiler.build import FILE_ROLES

    if as_json:
        print_json({"ok": True, "build": str(built.folder), "manifest": built.manifest, "commands": built.commands,
                    "kept_edits": {name: f"{name}.edited" for name in built.kept_edits}})
        return
    from rich.markup import escape
    from rich.table import Table

    out = console()
    forced = "  [yellow](forced: built with --force)[/]" if built.manifest.get("forced") else ""
    out.print(f"[bold]{escape(built.manifest['project'])}[/]: built {built.manifest['method'] or 'RAG'} scripts in "
              f"[bold]{escape(str(built.folder))}[/]{forced}")
    table = Table("file", "what", box=None, padding=(0, 2))
    for name in sorted(built.files, key=lambda n: (list(FILE_ROLES).index(n) if n in FILE_ROLES else 99, n)):
        table.add_row(name, FILE_ROLES.get(name, "") or _node_role(name))
    out.print(table)
    for name in built.kept_edits:
        out.print(f"[yellow]note:[/] {escape(name)} was edited by hand: your version is kept as "
                  f"{escape(str(built.folder / name))}.edited, and {escape(name)} is the generated one again")
    out.print(f"run them from {built.folder}:", markup=False, highlight=False)
    for step, command in built.commands.items():
        out.print(f"  {step:<6} {command}", markup=False, highlight=False)
    spec = os.path.relpath(os.path.normpath(built.folder / built.manifest["spec"]["path"]))
    out.print(f"or let ftspec do both in a new run folder: ftspec run {spec}", markup=False, highlight=False)


def show_status(status, as_json: bool) -> None:
    if as_json:
        print_json(status.to_json())
        return
    out = console()
    if not status.stale:
        out.print(f"the build in {status.folder} is up to date", markup=False, highlight=False)
        return
    out.print(f"the build in {status.folder} is stale:", markup=False, highlight=False)
    for reason in status.reasons:
        out.print(f"  - {reason}", markup=False, highlight=False)
    out.print("rebuild with: ftspec build SPEC", markup=False, highlight=False)


def _node_role(name: str) -> str:
    """accelerate_node_<r>.yaml and launch_node_<r>.sh, one of each a node."""
    rank = name.rsplit("_", 1)[-1].split(".")[0]
    if name.startswith("accelerate_node_"):
        return f"node {rank}'s accelerate config"
    return f"starts node {rank}'s share: sh {name} RUN_DIR" if name.startswith("launch_node_") else ""
