"""The build folder a run uses: rebuilt first when stale or missing, and how its scripts are launched."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ftspec.compiler.manifest import MANIFEST, recorded_files
from ftspec.errors import UsageError
from ftspec.fsutil import file_sha256


def build_folder(spec_path: Path, build_dir: Path | None) -> Path:
    return (build_dir if build_dir is not None else spec_path.resolve().parent / "build").resolve()


def ensure_build(result, build_dir: Path | None, force: bool) -> tuple[Path, bool]:
    """(the build folder, whether it was just rebuilt). Rebuilds when the spec, data or templates changed; a
    script edited by hand is run as edited, and never overwritten."""
    from ftspec.compiler.build import build_status, render_project, write_atomically

    folder = build_folder(result.loaded.path, build_dir)
    edited = edited_files(folder)
    status = build_status(result, folder)
    if not status.stale:
        return folder, False
    others = [r for r in status.reasons if not any(r.startswith(f"{name} ") for name in edited)]
    if edited and others:
        raise UsageError(f"the build in {folder} is stale ({others[0]}) and {', '.join(edited)} "
                         "was edited by hand; rebuilding would lose the edits",
                         "keep a copy of your edits, then `ftspec build SPEC` and run again; or run the edited "
                         "scripts yourself (see the build's README.md)")
    if edited:
        return folder, False  # only the hand edits differ: run them as they are
    write_atomically(render_project(result, folder, force=force))
    return folder, True


def edited_files(folder: Path) -> list[str]:
    """Files of the build whose content differs from what the build wrote (per manifest.json)."""
    return [name for name, digest in sorted(recorded_files(folder).items())
            if name != MANIFEST and (folder / name).is_file() and file_sha256(folder / name) != digest]


def require_build(folder: Path) -> None:
    from ftspec.baseline.rag import RAG_SCRIPT, is_rag_build

    needed = (RAG_SCRIPT, MANIFEST) if is_rag_build(folder) else ("train.py", "eval.py", MANIFEST)
    missing = [name for name in needed if not (folder / name).is_file()]
    if missing:
        raise UsageError(f"the build folder {folder} lacks {', '.join(missing)}",
                         "run `ftspec build SPEC` (or `ftspec run SPEC` without --resume, which builds first)")


def num_processes(folder: Path) -> int:
    """Processes per run, from the manifest's plan, else from accelerate.yaml; 1 when neither says."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    for holder in (manifest.get("plan", {}), manifest):
        count = (holder.get("distributed") or {}).get("num_processes") if isinstance(holder, dict) else None
        if isinstance(count, int) and count >= 1:
            return count
    return _accelerate_processes(folder / "accelerate.yaml")


def _accelerate_processes(path: Path) -> int:
    from ruamel.yaml import YAML

    try:
        config = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - no readable config means the plain single-process launch
        return 1
    count = config.get("num_processes") if isinstance(config, dict) else None
    return count if isinstance(count, int) and count >= 1 else 1


def script_argv(folder: Path, script: str, args: list[str]) -> list[str]:
    """`python SCRIPT ARGS`, or `accelerate launch --config_file accelerate.yaml SCRIPT ARGS` for several
    processes; accelerate runs from this interpreter's environment, the one the scripts were built for."""
    if script == "train.py" and num_processes(folder) > 1:
        return [sys.executable, "-m", "accelerate.commands.launch", "--config_file", "accelerate.yaml",
                script, *args]
    return [sys.executable, script, *args]
