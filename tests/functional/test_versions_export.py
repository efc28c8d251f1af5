"""`ftspec export` of a LoRA run: merged into its base (same logits as base + adapter), or kept apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.functional.eval_helpers import write_project
from tests.invoke import invoke

RUN = "20250101-120000-1111"


def _lora_run(root: Path, base: Path) -> Path:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    spec = write_project(root, [{"name": "exact_match", "threshold": ">= 0.5"}])
    (root / "models").mkdir()
    (root / "models" / "base").symlink_to(base.resolve(), target_is_directory=True)
    data = json.loads(spec.read_text())
    data["models"] = [{"name": "tiny", "path": "models/base", "license": "mit"}]
    spec.write_text(json.dumps(data))
    model = AutoModelForCausalLM.from_pretrained(str(base))
    # B != 0 (init_lora_weights=False): a freshly initialised adapter would change nothing and prove nothing
    adapter = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                                               init_lora_weights=False))
    run = root / "runs" / RUN
    adapter.save_pretrained(str(run / "model"))
    AutoTokenizer.from_pretrained(str(base)).save_pretrained(str(run / "model"))
    (run / "report.json").write_text(json.dumps({"verdict": "pass", "gates": [], "models": {}}))
    return spec


@pytest.mark.slow
def test_a_lora_run_exports_merged_or_apart(tmp_path, tiny_model_dir):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    spec = _lora_run(tmp_path, tiny_model_dir)
    merged_dir = tmp_path / "merged"
    result = invoke(["export", RUN, "--spec", spec, "--out", merged_dir, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["kind"] == "merged"
    assert not (merged_dir / "adapter_config.json").exists() and list(merged_dir.glob("*.safetensors"))
    ids = torch.tensor([[1, 5, 9, 13, 2]])
    with torch.no_grad():
        merged = AutoModelForCausalLM.from_pretrained(str(merged_dir))(ids).logits
        reference = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(str(tiny_model_dir)),
                                              str(tmp_path / "runs" / RUN / "model"))(ids).logits
        base = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir))(ids).logits
    assert torch.allclose(merged, reference, atol=1e-4) and not torch.allclose(merged, base, atol=1e-4)
    assert "license: \"mit\"" in (merged_dir / "README.md").read_text()

    again = invoke(["export", RUN, "--spec", spec, "--out", merged_dir])
    assert again.exit_code == 2 and "--force" in again.stderr

    apart = tmp_path / "adapter"
    assert invoke(["export", RUN, "--spec", spec, "--out", apart, "--keep-adapter"]).exit_code == 0
    assert (apart / "adapter_model.safetensors").is_file() and (apart / "adapter_config.json").is_file()
    card = (apart / "README.md").read_text()
    assert "library_name: \"peft\"" in card and "--enable-lora" in card
