"""The model card an export carries: Hugging Face's README.md format (YAML metadata, then Markdown), written from
the spec (intended use, data, method) and the run (hashes, gates with CIs, baselines, the weak slices)."""

from __future__ import annotations

import json

from ftspec.evals.gates import fmt
from ftspec.fsutil import read_json_object
from ftspec.runtime.rundir import REPORT_JSON, RunDir


def _yaml_value(value) -> str:
    return json.dumps(value, ensure_ascii=False)  # JSON scalars and lists are valid YAML flow values


def data_hashes(loaded, manifest: dict) -> dict[str, str]:
    """The data files' hashes as the run's build recorded them; without a manifest, hashed now from the spec."""
    if manifest.get("data"):
        return manifest["data"]
    from ftspec.versions.registry import file_sha256

    data = loaded.spec.data
    names = [*data.train, *(p for p in (data.eval, data.adversarial, data.regression) if p)]
    return {name: file_sha256(loaded.resolve(name)) for name in names if loaded.resolve(name).is_file()}


def metadata(spec, run_id: str, manifest: dict, written: dict, hashes: dict) -> str:
    model = spec.models[0]
    fields = {
        "license": model.license or "other",
        "base_model": model.hub or model.name,
        "library_name": "peft" if written["kind"] == "adapter" else "transformers",
        "pipeline_tag": "text-generation",
        "tags": ["ftspec", "fine-tuned", str(manifest.get("method") or spec.method)],
        "ftspec_run": run_id,
        "ftspec_data_sha256": hashes,
    }
    return "---\n" + "".join(f"{k}: {_yaml_value(v)}\n" for k, v in fields.items()) + "---\n"


def _gate_rows(report: dict) -> list[str]:
    rows = ["| | metric | slice | value | CI | threshold | baseline margin (CI) |", "|---|---|---|---|---|---|---|"]
    for g in report.get("gates", []):
        ci = g.get("value_ci") or g.get("ci")
        margin = (f"{fmt(g.get('margin'), signed=True)} vs {g['vs_baseline']} {_ci(g.get('margin_ci'))}"
                  if g.get("vs_baseline") else "")
        rows.append(f"| {'pass' if g.get('passed') else 'FAIL'} | {g.get('label')} | {g.get('slice')} | "
                    f"{fmt(g.get('value'))} | {_ci(ci)} | {g.get('threshold')} | {margin} |")
    return rows


def _ci(ci) -> str:
    return "n/a" if not ci else f"[{fmt(ci[0])}, {fmt(ci[1])}]"


def _baselines(report: dict) -> list[str]:
    models = report.get("models") or {}
    if not models:
        return ["No baseline scores in the run's report."]
    metrics = list(next(iter(next(iter(models.values())).values()), {}).keys())
    rows = ["| model | slice | " + " | ".join(metrics) + " |", "|---|---|" + "---|" * len(metrics)]
    for name, slices in models.items():
        for slice_name, values in slices.items():
            rows.append(f"| {name} | {slice_name} | " + " | ".join(fmt(values.get(m)) for m in metrics) + " |")
    return rows


def _limits(report: dict) -> list[str]:
    """What the adversarial and regression slices (and any failed gate) say the model gets wrong."""
    found = []
    for slice_name, values in (report.get("models", {}).get("finetuned") or {}).items():
        if slice_name in ("adversarial", "regression"):
            scores = ", ".join(f"{m} {fmt(v)}" for m, v in values.items())
            found.append(f"- On the {slice_name} set: {scores}.")
    found += [f"- Gate missed: `{g['label']}` on `{g['slice']}`: {g.get('reason')}"
              for g in report.get("gates", []) if not g.get("passed")]
    return found or ["- No adversarial or regression set was evaluated: the limits are unmeasured."]


def _training(spec, manifest: dict) -> list[str]:
    t = spec.training
    settings = {"method": manifest.get("method") or spec.method, "learning_rate": t.learning_rate,
                "epochs": t.epochs, "batch_size": t.batch_size, "gradient_accumulation": t.gradient_accumulation,
                "scheduler": t.scheduler, "max_seq_length": t.max_seq_length, "seed": t.seed,
                "lora": t.lora.model_dump(exclude_none=True) or None, "precision": t.precision}
    return [f"- {k}: `{v}`" for k, v in settings.items() if v is not None]


def _serving(written: dict) -> list[str]:
    if written["kind"] == "adapter":
        return ["This folder holds a LoRA adapter; serve it over its base model:", "",
                "```bash", f"vllm serve {written['base']} --enable-lora --lora-modules ft=./", "```"]
    return ["```bash", "vllm serve ./  # OpenAI-compatible server on :8000",
            "docker run --gpus all -p 8080:80 -v $PWD:/model ghcr.io/huggingface/text-generation-inference "
            "--model-id /model", "```", "",
            "```python", "from transformers import AutoModelForCausalLM, AutoTokenizer",
            "model = AutoModelForCausalLM.from_pretrained('./')", "tokenizer = AutoTokenizer.from_pretrained('./')",
            "```", "",
            "Prompt it as the run did: `prompt_format.json` holds the chat template or prompt template used in "
            "training and evaluation, and generation was greedy."]


def model_card(loaded, run: RunDir, written: dict, prompt_format: dict | None, audit: dict | None) -> str:
    spec = loaded.spec
    report, manifest = read_json_object(run.report(REPORT_JSON)), read_json_object(run.manifest)
    req = spec.requirements
    data_files = {name: getattr(spec.data, name) for name in ("train", "eval", "adversarial", "regression")}
    lines = [metadata(spec, run.id, manifest, written, data_hashes(loaded, manifest)), f"# {spec.name}", "",
             spec.description or "", "",
             f"Fine-tuned from `{spec.models[0].hub or spec.models[0].name}` by ftspec, run `{run.id}` "
             f"(verdict: {report.get('verdict', 'not evaluated')}).", "",
             "## Intended use", "", req.objective or "Not stated in the spec.", ""]
    lines += [f"- {use}" for use in req.use_cases] + ["", "## Training data", ""]
    lines += [f"- {name}: " + ", ".join(f"`{p}`" for p in ([path] if isinstance(path, str) else path))
              for name, path in data_files.items() if path]
    lines += ["", "| file | sha256 |", "|---|---|"]
    lines += [f"| `{path}` | `{sha}` |" for path, sha in data_hashes(loaded, manifest).items()]
    if audit is not None:
        flagged = ", ".join(f"{k}: {v}" for k, v in audit["by_check"].items())
        lines += ["", f"Data audit (`ftspec data audit`): {audit['flagged']} rows flagged" + (f" ({flagged})" if flagged
                                                                                           else "")]
    lines += ["", "## Method and hyperparameters", "", *_training(spec, manifest), ""]
    lines += ["## Evaluation", "", f"Gates with {spec.evaluation.confidence:.0%} bootstrap CIs:", "",
              *_gate_rows(report), "", "### Baselines", "", *_baselines(report), "",
              "## Known limits", "", *_limits(report), "", "## How to serve", "", *_serving(written), ""]
    return "\n".join(lines)
