"""Atomic file writes: a temp file in the same folder, then os.replace, so a crash never leaves half a file; and
the small file readers every stage shares."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path


def atomic_write_text(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, file_mode())  # mkstemp makes 0600; a written file gets the mode the umask gives
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def swap_in_folder(staging: Path, target: Path) -> None:
    """Put a finished folder where `target` is: the old one is moved aside first and removed only after the swap,
    so `target` is never half-written."""
    old = None
    os.chmod(staging, 0o777 & ~current_umask())  # mkdtemp makes it 0700; the folder gets what the umask gives
    if target.exists():
        old = target.parent / f".{target.name}.old-{os.getpid()}"
        os.replace(target, old)
    os.replace(staging, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink()


def read_json_object(path: Path) -> dict:
    """A file's JSON object; {} when it is missing, unreadable or not an object."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def file_sha256(path: Path) -> str | None:
    """The file's sha256 (hex), or None when it cannot be read."""
    import hashlib

    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def current_umask() -> int:
    """The process's umask (reading it means setting it: put straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode a new file gets from open() under the current umask (0644 under 022)."""
    return 0o666 & ~current_umask()


def display_path(path: str | Path) -> str:
    """A path as ftspec prints and writes it: relative to the current folder when inside it, else absolute."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(Path.cwd()).as_posix() or "."
    except ValueError:
        return str(absolute)
