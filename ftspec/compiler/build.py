"""`ftspec build`: render the plan into build/, atomically, with a manifest that says when the build is stale.

The same spec, data and templates give byte-identical files: nothing here reads the clock or the machine, and
every path a script sees is relative to the build folder.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from ftspec.baseline.rag import RAG_SCRIPT, rag_buildable, render_rag
from ftspec.compiler import report
from ftspec.compiler.manifest import MANIFEST, MANIFEST_FORMAT, recorded_files
from ftspec.compiler.pipeline import CheckResult, check_project
from ftspec.compiler.plan import Plan
from ftspec.compiler.render import TEMPLATES_DIR, ScriptPaths, render_build, template_files
from ftspec.errors import UsageError
from ftspec.fsutil import file_sha256, swap_in_folder

LIBRARIES = ("torch", "transformers", "peft", "trl", "bitsandbytes", "datasets", "accelerate", "safetensors")
# what a stale check compares (library versions are recorded, not compared: they do not change the files)
INPUT_KEYS = ("ftspec_version", "spec", "data", "templates", "forced")
FILE_ROLES = {
    "train.py": "training script", "eval.py": "predictions for the model and each baseline",
    "accelerate.yaml": "accelerate config", "prompt_format.json": "the one prompt format both scripts read",
    "README.md": "what each file is, the commands", "decision.md": "the decision report",
    "decision.json": "the decision, for machines", "manifest.json": "hashes and versions (build --check)",
    "rag_eval.py": "retrieval-augmented predictions (RAG builds)",
    "slurm.sbatch": "a Slurm job that starts every node's share", "deepspeed.json": "the DeepSpeed (ZeRO) config",
}


@dataclass
class Build:
    folder: Path
    files: dict[str, str]  # name -> text, the manifest included
    manifest: dict
    commands: dict[str, str] = field(default_factory=dict)
    kept_edits: list[str] = field(default_factory=list)  # generated files edited by hand, kept as NAME.edited


@dataclass
class BuildStatus:
    folder: Path
    stale: bool
    reasons: list[str]

    def to_json(self) -> dict:
        return {"build": str(self.folder), "stale": self.stale, "reasons": self.reasons}


# The runtime's entry points (`ftspec run` builds first when the build is stale or missing).
def is_stale(spec_path: str | Path, folder: Path) -> bool:
    return build_status(check_project(spec_path), Path(folder)).stale


def write_build(spec_path: str | Path, folder: Path, force: bool = False) -> Build:
    built = render_project(check_project(spec_path), Path(folder), force=force)
    built.kept_edits = write_atomically(built)
    return built


def default_folder(result: CheckResult) -> Path:
    return result.loaded.root / "build"


def buildable_plan(result: CheckResult, force: bool) -> Plan:
    """The plan to render, or a UsageError saying why not. --force overrides a refusal and says so in the report."""
    plan = result.plan
    refusals = _refusals(result)
    if refusals and not force:
        message, hint = refusals[0]
        raise UsageError(message, hint)
    if not rag_buildable(result) and (plan.method is None or plan.model is None or plan.hyperparameters is None):
        raise UsageError(f"the plan has no training method to render (approach: {plan.decision.approach})",
                         "set `method:` (full, lora, qlora or dpo) and at least one model in the spec")
    updates = {"reasons": [_relocate(reason, result) for reason in plan.decision.reasons]}
    if refusals:
        updates["forced"] = True
    hp = plan.hyperparameters
    spec, name = f"{result.loaded.path}:", f"{result.loaded.path.name}:"
    if hp is not None:  # a RAG build trains nothing
        hp = hp.model_copy(update={"reasons": {k: v.replace(spec, name) for k, v in hp.reasons.items()}})
    return plan.model_copy(update={"decision": plan.decision.model_copy(update=updates), "hyperparameters": hp})


def _relocate(reason, result: CheckResult):
    """A reason's file:line:col names the spec by its file name, so the build does not depend on the checkout."""
    spec = str(result.loaded.path)
    if reason.location and reason.location.startswith(spec + ":"):
        return reason.model_copy(update={"location": result.loaded.path.name + reason.location[len(spec):]})
    return reason


def _refusals(result: CheckResult) -> list[tuple[str, str]]:
    plan, found = result.plan, []
    if result.audit.errors:
        checks = ", ".join(sorted({f.check for f in result.audit.errors}))
        found.append((f"the data audit found blocking problems ({checks}); not building",
                      "fix them (`ftspec data audit SPEC` lists every row), or pass --force to build anyway"))
    blocked = plan.decision.blocked
    if blocked:
        names = ", ".join(p.name for p in blocked)
        hints = "; ".join(p.hint for p in blocked if p.hint)
        found.append((f"unmet prerequisite(s) for fine-tuning: {names}",
                      (hints + "; " if hints else "") + "or pass --force to build anyway"))
    if plan.decision.approach in ("prompting", "rag") and not rag_buildable(result):
        found.append((f"the decision is `{plan.decision.approach}`: this project needs no fine-tuning, so there "
                      "are no training scripts to build", "see `ftspec explain SPEC`; pass --force to build them "
                      "anyway (and set `method:` in the spec)"))
    return found


def script_paths(result: CheckResult, plan: Plan, folder: Path) -> ScriptPaths:
    """Data and model paths as the scripts see them: relative to the build folder, in POSIX form."""
    base = folder.resolve()

    def rel(path: str | None) -> str | None:
        return None if path is None else Path(os.path.relpath(result.loaded.resolve(path), base)).as_posix()

    data = plan.data
    return ScriptPaths(train=[rel(p) for p in data.train], eval=rel(data.eval), adversarial=rel(data.adversarial),
                       regression=rel(data.regression), model=rel(plan.model.path) if plan.model else None,
                       reward_model=rel(result.loaded.spec.training.reward_model))


def render_project(result: CheckResult, folder: Path, force: bool = False) -> Build:
    """Every file of the build, in memory (nothing is written)."""
    plan = buildable_plan(result, force)
    paths = script_paths(result, plan, folder)
    version = ftspec_version()
    rag = rag_buildable(result)
    files = render_rag(result, plan, folder, version) if rag else render_build(plan, paths, TEMPLATES_DIR, version)
    files.update(decision_files(result, plan, folder))
    commands = {"eval": f"python {RAG_SCRIPT} --output-dir RUN_DIR"} if rag else run_commands(plan)
    if plan.decision.approach == "fine_tuning_and_rag" and result.loaded.spec.data.documents:
        files.update(render_rag(result, plan, folder, version))  # the fine-tuned model with retrieval, scored apart
        commands["rag_eval"] = f"python {RAG_SCRIPT} --output-dir RUN_DIR-rag --model-dir RUN_DIR/model"
    manifest = {
        "ftspec_build": MANIFEST_FORMAT,
        "project": plan.project,
        "ftspec_version": version,
        "spec": {"path": Path(os.path.relpath(result.loaded.path.resolve(), folder.resolve())).as_posix(),
                 "sha256": result.loaded.sha256},
        "data": data_hashes(result, plan),
        "dev_split": plan.data.dev_split.model_dump(mode="json"),  # train rows that pick the checkpoint (plan.py)
        "templates": template_files(TEMPLATES_DIR),
        "forced": plan.decision.forced,
        "method": plan.method,
        "distributed": plan.distributed.model_dump(mode="json"),
        "libraries": library_versions(),
        "files": {name: _sha256(text.encode()) for name, text in sorted(files.items())},
        "commands": commands,
    }
    files[MANIFEST] = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    return Build(folder, files, manifest, commands)


def decision_files(result: CheckResult, plan: Plan, folder: Path) -> dict[str, str]:
    """decision.md and decision.json. The report names the spec relative to the build folder, so the build does
    not depend on where the project lives."""
    relative = Path(os.path.relpath(result.loaded.path.resolve(), folder.resolve()))
    markdown = report.decision_markdown(plan, result.audit, dataclasses.replace(result.loaded, path=relative))
    if plan.decision.forced and "forced" not in markdown.lower():
        markdown += ("\n\n**Forced:** built with `--force` although the checks above refused; the results may not "
                     "mean what the spec intends.\n")
    return {"decision.md": markdown.rstrip("\n") + "\n",
            "decision.json": json.dumps(report.decision_json(plan), indent=2, ensure_ascii=False, default=str) + "\n"}


def run_commands(plan: Plan) -> dict[str, str]:
    """The exact command for each script, run from the build folder."""
    commands = {"train": "python train.py --output-dir RUN_DIR", "eval": "python eval.py --output-dir RUN_DIR"}
    if plan.distributed.num_processes > 1 or plan.distributed.mode != "single":
        commands["train"] = "accelerate launch --config_file accelerate.yaml train.py --output-dir RUN_DIR"
    return commands


def data_hashes(result: CheckResult, plan: Plan) -> dict[str, str]:
    data = plan.data
    named = [*data.train, data.eval, data.adversarial, data.regression]
    return {path: file_sha256(result.loaded.resolve(path)) for path in dict.fromkeys(p for p in named if p)}


def ftspec_version() -> str:
    try:
        return metadata.version("ftspec")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def library_versions() -> dict[str, str | None]:
    """Versions of the scripts' libraries, read from package metadata (importing torch would cost seconds)."""
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def build_status(result: CheckResult, folder: Path) -> BuildStatus:
    """Stale when the spec, data, templates or ftspec changed since the build, or a file in it was edited or lost."""
    manifest_path = folder / MANIFEST
    try:
        recorded = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return BuildStatus(folder, True, [f"no build at {folder} (no readable {MANIFEST})"])
    try:
        expected = render_project(result, folder, force=bool(recorded.get("forced"))).manifest
    except UsageError as exc:
        return BuildStatus(folder, True, [f"the spec no longer builds: {exc}"])
    reasons = [_changed(key, recorded.get(key), expected[key]) for key in INPUT_KEYS
               if recorded.get(key) != expected[key]]
    if not reasons and recorded.get("files") != expected["files"]:
        reasons.append("the plan renders different files now")
    for name, digest in sorted((recorded.get("files") or {}).items()):
        path = folder / name
        if not path.is_file():
            reasons.append(f"{name} is missing from the build")
        elif file_sha256(path) != digest:
            reasons.append(f"{name} was edited after the build")
    return BuildStatus(folder, bool(reasons), reasons)


def _changed(key: str, old: object, new: object) -> str:
    if isinstance(old, dict) and isinstance(new, dict) and key in ("data", "templates"):
        names = sorted(n for n in set(old) | set(new) if old.get(n) != new.get(n))
        return f"{key} changed: {', '.join(names)}"
    return {"spec": "the spec changed", "ftspec_version": f"ftspec changed ({old} -> {new})",
            "forced": "the build was forced" if old else "the build was not forced"}.get(key, f"{key} changed")


def write_atomically(built: Build) -> list[str]:
    """Render into a temporary folder beside the target, then swap it in: the old build stays whole until the new
    one is complete. Anything in the old folder that ftspec did not write (notes, __pycache__) is carried over.
    Returns the generated files that were edited by hand and are now kept as NAME.edited."""
    folder = built.folder
    _refuse_foreign_folder(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.new-", dir=folder.parent))
    kept: list[str] = []
    try:
        for name, text in built.files.items():
            (staging / name).write_text(text, encoding="utf-8", newline="\n")
        if folder.exists():
            kept = _carry_over(folder, staging, built)
        swap_in_folder(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return kept


def _carry_over(folder: Path, staging: Path, built: Build) -> list[str]:
    """Move the user's own files into the new build; a generated file edited by hand is kept as NAME.edited (the
    names of those are returned, so the command can say so)."""
    recorded = recorded_files(folder)
    kept = []
    for entry in folder.iterdir():
        if entry.name == MANIFEST:
            continue
        if entry.name not in built.files and entry.name not in recorded:
            os.replace(entry, staging / entry.name)
        elif entry.is_file() and entry.name in recorded and file_sha256(entry) != recorded[entry.name]:
            if file_sha256(entry) != _sha256(built.files.get(entry.name, "").encode()):
                os.replace(entry, staging / f"{entry.name}.edited")
                kept.append(entry.name)
    return sorted(kept)


def _refuse_foreign_folder(folder: Path) -> None:
    """Only an empty folder or an earlier ftspec build is replaced: never a folder of the user's own."""
    if not folder.exists():
        return
    if not folder.is_dir():
        raise UsageError(f"{folder} exists and is not a folder", "pass --out with a new or empty folder")
    try:
        recorded = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        ours = isinstance(recorded, dict) and "ftspec_build" in recorded
    except (OSError, ValueError):
        ours = False
    if not ours and any(folder.iterdir()):
        raise UsageError(f"{folder} is not empty and holds no ftspec build; not overwriting it",
                         "pass --out with a new or empty folder")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()

