"""Every architecture family of the zoo (ftspec/demo/zoo.py) through check -> build -> run (2 steps) -> eval, as a
user runs them: LoRA on each, full fine-tuning on the smallest, QLoRA on one decoder (bitsandbytes' 4-bit layers
run on CPU), DPO on one chat model, and the encoder-decoder (T5) with perplexity on its target."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.functional.zoo_project import zoo_project

ENV = {"OMP_NUM_THREADS": "1", "NO_COLOR": "1", "COLUMNS": "200", "TOKENIZERS_PARALLELISM": "false"}
PERPLEXITY = "  - {name: perplexity, threshold: '<= 1.0e+12'}\n"
# (arch, method, project options): what each case adds beyond its family's own tokens and template
CASES = [
    ("llama", "lora", {}),
    ("qwen2", "lora", {}),
    ("gemma2", "lora", {"system_prompt": "Reply with JSON only."}),  # its template rejects the system role
    ("mistral", "lora", {}),
    ("phi3", "lora", {}),
    # 128 positions: two few-shot examples plus 64 new tokens run past the context, for generation and perplexity
    ("gpt2", "lora", {"max_new_tokens": 64, "metrics": PERPLEXITY}),
    ("t5", "lora", {"metrics": PERPLEXITY}),
    ("gpt2", "full", {}),
    ("t5", "full", {"metrics": PERPLEXITY}),
    ("llama", "qlora", {}),
    ("phi3", "dpo", {"data_format": "preference", "system_prompt": "Reply with JSON only."}),
]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ftspec", *args], cwd=cwd, env={**os.environ, **ENV},
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
@pytest.mark.parametrize(("arch", "method", "options"), CASES, ids=[f"{a}-{m}" for a, m, _ in CASES])
def test_family_runs_end_to_end(tmp_path, zoo_model, arch, method, options):
    spec = zoo_project(tmp_path, arch, zoo_model(arch), method, **options)
    checked = _cli("check", "project.yaml", "--json", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    plan = json.loads(checked.stdout)["plan"]
    assert plan["method"] == method and plan["model"]["is_encoder_decoder"] == (arch == "t5")
    built = _cli("build", "project.yaml", cwd=tmp_path)
    assert built.returncode == 0, built.stdout + built.stderr
    ran = _cli("run", "project.yaml", "--json", cwd=tmp_path)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    run_dir = Path(json.loads(ran.stdout)["run_dir"])
    log = [json.loads(line) for line in (run_dir / "train_log.jsonl").read_text().splitlines() if line.strip()]
    assert log[-1]["status"] == "completed" and log[-1]["global_step"] == 2
    rows = [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text().splitlines()]
    assert {r["model"] for r in rows} == {"finetuned", "base_zero_shot", "base_few_shot"}
    assert [r["error"] for r in rows] == [None] * len(rows)  # no IndexError past GPT-2's context, no template error
    if "perplexity" in options.get("metrics", ""):
        assert all(r["nll"] > 0 and r["ref_tokens"] > 0 for r in rows)
    scored = _cli("eval", str(spec), cwd=tmp_path)
    assert scored.returncode == 0, scored.stdout + scored.stderr
    assert "gate passed" in scored.stdout
