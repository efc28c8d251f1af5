"""Files ftspec writes get the mode any new file gets under the umask (mkstemp alone makes them 0600)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ftspec.data.writers import AtomicFile
from ftspec.fsutil import atomic_write_text, display_path


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_written_files_take_the_umask_mode(tmp_path: Path, umask: int):
    previous = os.umask(umask)
    try:
        atomic_write_text(tmp_path / "a.txt", "a\n")
        handle = AtomicFile(tmp_path / "b.jsonl")
        handle.handle.write("{}\n")
        handle.commit()
        (tmp_path / "c.txt").write_text("c\n")  # what open() gives, for comparison
    finally:
        os.umask(previous)
    modes = {name: stat.S_IMODE((tmp_path / name).stat().st_mode) for name in ("a.txt", "b.jsonl", "c.txt")}
    assert modes == dict.fromkeys(modes, 0o666 & ~umask)


def test_display_path_is_relative_inside_the_current_folder(tmp_path: Path, monkeypatch):
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert display_path(tmp_path / "sub" / "x" / "y.jsonl") == "x/y.jsonl"
    assert display_path("x/../y.jsonl") == "y.jsonl"
    assert display_path(tmp_path / "z.jsonl") == str(tmp_path / "z.jsonl")
    assert display_path("../z.jsonl") == str(tmp_path / "z.jsonl")
