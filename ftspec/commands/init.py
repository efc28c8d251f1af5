"""`ftspec init [DIR]`: a commented starter project that passes `ftspec check`."""

from __future__ import annotations

from pathlib import Path


def init_command(directory: Path, as_json: bool = False) -> int:
    from ftspec.spec.scaffold import scaffold, starter_files

    lines = scaffold(directory)
    if as_json:
        from ftspec.ui.console import print_json

        files = starter_files(directory)
        print_json({"ok": True, "exit_code": 0, "created": [str(path) for path in files],
                    "next": f"ftspec check {files[0]}"})
        return 0
    for line in lines:
        print(line)
    return 0
