"""A run's eval reuses the ladder: the base model's rows (base_zero_shot, base_few_shot) come from the newest
baseline measurement that matches today's spec, data and model (every key of baselines/<id>/baseline.json), so
eval.py generates only the fine-tuned model and the rungs' rows are appended to predictions.jsonl unchanged.

Anything that could make the saved rows differ from what eval.py would generate means no reuse, and eval.py
generates every model as before: no measurement or a stale one, a spec edited since the run started, an eval.py
edited by hand, another prompt format or few-shot k, a latency gated against a base model (the ladder times batches,
eval.py times single requests). Where each base model's rows came from is kept in the run
folder (base_sources.json) for `ftspec eval`'s report."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ftspec.baseline.keys import measurement_keys
from ftspec.baseline.store import Stored, stored
from ftspec.fsutil import atomic_write_text, file_sha256, read_json_object
from ftspec.runtime.rundir import PREDICTIONS, RunDir

EVAL_RUNGS = {"base_zero_shot": "zero_shot", "base_few_shot": "few_shot"}  # eval.py's model -> the ladder's rung
SOURCES = "base_sources.json"  # in the run folder: {model: {"baseline": id, "rung": rung}}
EVAL_SCRIPT = "eval.py"
PROMPT_FORMAT = "prompt_format.json"


@dataclass
class Reuse:
    baseline: Stored
    models: dict[str, str]  # eval.py's model name -> the rung whose predictions stand in for it
    generated: list[str] = field(default_factory=lambda: ["finetuned"])  # eval.py's `--models`: all the others

    def note(self) -> str:
        return f"{', '.join(self.models)}: predictions from baseline {self.baseline.id}, not regenerated"


def find_reuse(spec: Path, build: Path, run: RunDir) -> Reuse | None:
    """The measurement whose rungs stand in for eval.py's base models in this run, or None."""
    from ftspec.runtime.buildstep import edited_files
    from ftspec.spec.load import load_spec

    plan = read_json_object(build / "decision.json").get("plan") or {}
    model = plan.get("model") or {}
    baselines = [str(b.get("name")) for b in (plan.get("evaluation") or {}).get("baselines") or []]
    wanted = [name for name in baselines if name in EVAL_RUNGS]
    if not wanted or not model.get("path") or EVAL_SCRIPT in edited_files(build):
        return None
    if not run.spec_snapshot.is_file() or file_sha256(spec) != file_sha256(run.spec_snapshot):
        return None  # the spec changed since the run started: the build's eval.py may not match it
    loaded = load_spec(spec)
    if not loaded.resolve(model["path"]).is_dir() or _latency_against_base(loaded):
        return None
    records = stored(loaded.root, model.get("name"))
    if not records:
        return None
    keys = measurement_keys(loaded, model["path"])
    match = next((s for s in records if s.record.get("keys") == keys), None)
    if match is None or not _same_prompts(match, build, plan):
        return None
    models = {name: EVAL_RUNGS[name] for name in wanted if (match.folder / EVAL_RUNGS[name] / PREDICTIONS).is_file()}
    generated = [name for name in ("finetuned", *baselines) if name not in models]
    return Reuse(match, models, generated) if len(models) == len(wanted) else None


def _latency_against_base(loaded) -> bool:
    """A latency gated against the base model needs eval.py's per-request timing of it; the ladder times batches."""
    return any(m.vs_baseline is not None and m.name.startswith("latency") for m in loaded.spec.metrics)


def _same_prompts(match: Stored, build: Path, plan: dict) -> bool:
    """The same prompt format and the same number of random shots as the build's eval.py."""
    fmt = match.folder / PROMPT_FORMAT
    if not fmt.is_file() or not (build / PROMPT_FORMAT).is_file():
        return False
    shots = [b.get("k", 3) for b in plan["evaluation"]["baselines"] if b.get("name") == "base_few_shot"]
    return (file_sha256(fmt) == file_sha256(build / PROMPT_FORMAT)
            and (not shots or match.record.get("few_shot_k") == shots[0]))


def append_rows(run: RunDir, reuse: Reuse) -> None:
    """Add the rungs' predictions to the run's predictions.jsonl byte for byte, and record where they came from."""
    text = run.predictions.read_text(encoding="utf-8")
    if text and not text.endswith("\n"):
        text += "\n"
    for rung in reuse.models.values():
        text += (reuse.baseline.folder / rung / PREDICTIONS).read_text(encoding="utf-8")
    atomic_write_text(run.predictions, text)
    sources = {name: {"baseline": reuse.baseline.id, "rung": rung} for name, rung in reuse.models.items()}
    atomic_write_text(run.path / SOURCES, json.dumps(sources, indent=2) + "\n")


def base_sources(run_dir: Path, rows: list[dict]) -> dict[str, str]:
    """For the report: where each base model's rows came from ("from baseline <id>" or "generated in this run")."""
    recorded = read_json_object(Path(run_dir) / SOURCES)
    found = {}
    for name in dict.fromkeys(row.get("model") for row in rows):
        if isinstance(name, str) and name.startswith("base_"):
            source = recorded.get(name)
            found[name] = (f"from baseline {source['baseline']} ({source['rung']} rung)" if isinstance(source, dict)
                           else "generated in this run")
    return found

