"""The versions loop on the demo, end to end through the real CLI: two short runs with different seeds, compare,
promote, a regression gate against the promoted run, export; the exported folder loads with from_pretrained and
generates, greedily, the text the run predicted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftspec.fsutil import atomic_write_text
from tests.functional.test_run_e2e import _cli, small_project


def _seeded(spec: Path, seed: int) -> None:
    text = spec.read_text(encoding="utf-8")
    text = text.replace("\ntraining:\n", f"\ntraining:\n  seed: {seed}\n", 1) if "  seed:" not in text \
        else "\n".join(f"  seed: {seed}" if line.startswith("  seed:") else line for line in text.splitlines()) + "\n"
    atomic_write_text(spec, text)


def _train(spec: Path, seed: int) -> Path:
    _seeded(spec, seed)
    before = set((spec.parent / "runs").glob("*")) if (spec.parent / "runs").is_dir() else set()
    done = _cli("run", str(spec))
    assert done.returncode == 0, done.stdout + done.stderr
    (run_dir,) = set((spec.parent / "runs").glob("*")) - before
    evaluated = _cli("eval", str(spec), "--run", run_dir.name)
    assert evaluated.returncode in (0, 1), evaluated.stdout + evaluated.stderr
    return run_dir


def _generate(folder: Path, prompts: list[str], fmt: dict, max_new_tokens: int) -> list[str]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(str(folder))
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    texts = []
    for prompt in prompts:
        ids = tokenizer(prompt, add_special_tokens=fmt["add_special_tokens"], return_tensors="pt")
        with torch.no_grad():
            out = model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False,
                                 pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id)
        texts.append(tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True).strip())
    return texts


@pytest.mark.slow
def test_compare_promote_gate_and_export_on_the_demo(tmp_path, demo_model_dir):
    spec = small_project(tmp_path, demo_model_dir, epochs=1, batch_size=8)
    with open(spec, "a", encoding="utf-8") as handle:
        handle.write("regression:\n  tolerance: {exact_match: \">= -0.5\", json_valid: \">= -0.5\"}\n")
    first, second = _train(spec, 42), _train(spec, 7)

    compared = _cli("compare", first.name, second.name, "--spec", str(spec), "--json")
    assert compared.returncode == 0, compared.stdout + compared.stderr
    result = json.loads(compared.stdout)
    assert result["eval_set"]["same"] and {m["slice"] for m in result["metrics"]} >= {"all", "adversarial"}
    assert all(m["p_value"] is not None and 0 <= m["p_value"] <= 1 for m in result["metrics"])
    assert (second / "compare.html").is_file()

    promoted = _cli("promote", first.name, "--spec", str(spec), "--force", "--json")
    assert promoted.returncode == 0, promoted.stderr
    entry = json.loads(promoted.stdout)
    assert entry["hashes"]["weights"]["sha256"] and entry["hashes"]["build"]

    gated = _cli("eval", str(spec), "--run", second.name, "--against", "promoted", "--json")
    report = json.loads(gated.stdout)
    section = report["regression"]
    assert section["against"] == first.name and section["gates"]
    assert gated.returncode == (0 if report["verdict"] == "pass" else 1)
    assert section["passed"] == all(g["passed"] for g in section["gates"])

    out = tmp_path / "export"
    exported = _cli("export", second.name, "--spec", str(spec), "--out", str(out))
    assert exported.returncode == 0, exported.stdout + exported.stderr
    assert list(out.glob("*.safetensors")) and not list(out.glob("*.bin"))
    card = (out / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---\nlicense: \"apache-2.0\"") and f"ftspec_run: \"{second.name}\"" in card
    assert "## Known limits" in card and "vllm serve" in card

    fmt = json.loads((out / "prompt_format.json").read_text())
    rows = [json.loads(line) for line in (second / "predictions.jsonl").read_text().splitlines()]
    tuned = [r for r in rows if r["model"] == "finetuned" and r["slice"] == "all"][:3]
    assert _generate(out, [r["prompt"] for r in tuned], fmt, 24) == [r["prediction"] for r in tuned]
