"""The stage behind `ftspec export RUN --out DIR`: a run's model as a folder to ship: safetensors weights (a LoRA
adapter merged into its base, or kept apart with --keep-adapter), the tokenizer with its chat template, the prompt
format the run used, and a model card (README.md, the Hugging Face format) written from the spec and the run.

torch, transformers and peft are imported inside `export_model` only. The folder is written beside DIR and swapped
in whole, so an interrupted export never leaves half a model.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ftspec.errors import UsageError
from ftspec.runtime.rundir import MODEL, RunDir

PROMPT_FORMAT = "prompt_format.json"  # the build's prompt format, shipped beside the model
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")


def _base_source(loaded, model_dir: Path) -> str:
    """Where the adapter's base model is: the path recorded in the adapter if it still exists, else the spec's."""
    config = json.loads((model_dir / "adapter_config.json").read_text(encoding="utf-8"))
    recorded = config.get("base_model_name_or_path")
    if recorded and Path(recorded).is_dir():
        return recorded
    model = loaded.spec.models[0]
    if model.path:
        return str(loaded.resolve(model.path))
    if model.hub:
        return model.hub
    raise UsageError("cannot find the adapter's base model", "set models[0].path or hub in the spec")


def export_model(loaded, model_dir: Path, staging: Path, keep_adapter: bool) -> dict:
    """Write the weights and tokenizer into staging; returns what was written (for the card)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    trust = loaded.spec.models[0].trust_remote_code
    is_adapter = (model_dir / "adapter_config.json").is_file()
    staging.mkdir(parents=True)
    if is_adapter and keep_adapter:
        for name in ADAPTER_FILES:
            shutil.copy2(model_dir / name, staging / name)
        kind = "adapter"
    elif is_adapter:
        from peft import PeftModel

        base = AutoModelForCausalLM.from_pretrained(_base_source(loaded, model_dir), dtype="auto",
                                                    trust_remote_code=trust)
        merged = PeftModel.from_pretrained(base, str(model_dir)).merge_and_unload()
        merged.save_pretrained(str(staging), safe_serialization=True)
        kind = "merged"
    else:
        model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype="auto", trust_remote_code=trust)
        model.save_pretrained(str(staging), safe_serialization=True)
        kind = "full"
    AutoTokenizer.from_pretrained(str(model_dir), trust_remote_code=trust).save_pretrained(str(staging))
    for stray in staging.glob("*.bin"):  # safetensors only: no pickled weights leave ftspec
        stray.unlink()
    return {"kind": kind, "base": _base_source(loaded, model_dir) if is_adapter else None}


def prompt_format_of(loaded) -> dict | None:
    path = loaded.root / "build" / PROMPT_FORMAT
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def audit_summary(loaded) -> dict | None:
    """The data audit's counts, from `ftspec check` (None when the check cannot run here)."""
    from ftspec.errors import FtspecError

    try:
        from ftspec.compiler.pipeline import check_project

        audit = (check_project(loaded.path).to_json() or {}).get("audit") or {}
    except FtspecError:
        return None
    counts: dict[str, int] = {}
    for finding in audit.get("findings") or []:
        if isinstance(finding, dict) and isinstance(finding.get("count"), int) and finding["count"] > 0:
            counts[f"{finding.get('check')} ({finding.get('severity')})"] = finding["count"]
    return {"flagged": sum(counts.values()), "by_check": counts}


def export_run(spec: Path | None, ref: str, out: Path, keep_adapter: bool = False, force: bool = False) -> dict:
    """`ftspec export RUN --out DIR`: the folder written, swapped in whole; returns what was written (its JSON)."""
    from ftspec.spec.load import load_spec
    from ftspec.versions.refs import find_spec, resolve_run

    loaded = load_spec(find_spec(spec))
    run = resolve_run(loaded, ref)
    if not run.model.is_dir():
        raise UsageError(f"run {run.id} has no {MODEL}/ folder", "export a run whose training finished")
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not force:
        raise UsageError(f"{out} exists and is not empty", "pass --force to replace it, or choose another --out")
    written = write_export(loaded, run, out, keep_adapter)
    return {"run_id": run.id, "out": str(out), "kind": written["kind"], "files": sorted(p.name for p in out.iterdir())}


def write_export(loaded, run: RunDir, out: Path, keep_adapter: bool) -> dict:
    """Model, tokenizer, prompt format and card into a folder beside `out`, then swapped in; nothing half-written
    is left when it fails."""
    from ftspec.fsutil import atomic_write_text, swap_in_folder
    from ftspec.versions.card import model_card

    staging = out.parent / f".{out.name}.export-partial"
    shutil.rmtree(staging, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        written = export_model(loaded, run.model, staging, keep_adapter)
        fmt = prompt_format_of(loaded)
        if fmt is not None:
            atomic_write_text(staging / PROMPT_FORMAT, json.dumps(fmt, indent=2) + "\n")
        atomic_write_text(staging / "README.md", model_card(loaded, run, written, fmt, audit_summary(loaded)))
        swap_in_folder(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return written
