"""The import direction between ftspec's packages, read from the source (every import, the ones inside functions too):

    cli -> commands -> ui -> stages        stages: compiler, runtime, evals, data, spec, versions, ... and errors,
                                           fsutil

Stages return results and never import ui or commands; ui may import the stages' types but no command; nothing but
cli imports commands. A two-way tie closed by a function-level import is still a tie, so it is caught here.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "ftspec"
PRESENTATION = {"ui", "commands", "cli", "__main__"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    return imports_of(path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py")


def imports_of(text: str, module: str, is_package: bool = False) -> set[str]:
    """Every ftspec module a source imports, at any depth (inside functions too), relative imports resolved."""
    tree = ast.parse(text)
    package = module.split(".") if is_package else module.split(".")[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from ftspec import ui`
    return {name for name in found if name == "ftspec" or name.startswith("ftspec.")}


def layer(module: str) -> str:
    """The top-level part of ftspec a module belongs to: ui, commands, cli, or a stage's name."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "ftspec"


def is_within(module: str, part: str) -> bool:
    return module == f"ftspec.{part}" or module.startswith(f"ftspec.{part}.")


def sources() -> dict[str, set[str]]:
    return {module_name(path): imported(path) for path in sorted(PACKAGE.rglob("*.py"))}


def violations(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for module, targets in graph.items():
        here = layer(module)
        for target in sorted(targets):
            if here not in PRESENTATION and here != "ftspec" and any(is_within(target, p) for p in ("ui", "commands")):
                found.append(f"stage {module} imports {target}")
            if here == "ui" and (is_within(target, "commands") or is_within(target, "cli")):
                found.append(f"ui module {module} imports {target}")
            if is_within(target, "commands") and here not in ("cli", "commands"):
                found.append(f"{module} imports {target}: only cli calls the commands")
    return found


def test_stages_never_import_ui_or_commands_and_only_cli_imports_commands():
    graph = sources()
    assert any(layer(m) == "commands" for m in graph) and any(layer(m) == "ui" for m in graph)
    assert any(layer(m) == "versions" for m in graph) and "versions" not in PRESENTATION  # checked as a stage
    assert violations(graph) == []


def test_a_function_level_import_of_ui_in_a_stage_is_caught():
    """The reader sees imports inside functions and relative ones, as the old ties were written."""
    tree = {
        "ftspec.runtime.fake": {"ftspec.ui.run", "ftspec.ui.run.RunView"},
        "ftspec.ui.fake": {"ftspec.commands.run"},
        "ftspec.evals.fake": {"ftspec.commands"},
        "ftspec.commands.fine": {"ftspec.ui.console", "ftspec.runtime.command"},
        "ftspec.cli": {"ftspec.commands.run"},
    }
    assert violations(tree) == [
        "stage ftspec.runtime.fake imports ftspec.ui.run",
        "stage ftspec.runtime.fake imports ftspec.ui.run.RunView",
        "ui module ftspec.ui.fake imports ftspec.commands.run",
        "ftspec.ui.fake imports ftspec.commands.run: only cli calls the commands",
        "stage ftspec.evals.fake imports ftspec.commands",
        "ftspec.evals.fake imports ftspec.commands: only cli calls the commands",
    ]
    probe = "def show():\n    from ..ui import run\n    import ftspec.commands.run\n"
    graph = {"ftspec.runtime.probe": imports_of(probe, "ftspec.runtime.probe")}
    assert violations(graph) == ["stage ftspec.runtime.probe imports ftspec.commands.run",
                                 "ftspec.runtime.probe imports ftspec.commands.run: only cli calls the commands",
                                 "stage ftspec.runtime.probe imports ftspec.ui",
                                 "stage ftspec.runtime.probe imports ftspec.ui.run"]
