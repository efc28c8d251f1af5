"""The preference objectives of issue 17 in the methods table: reward_model and grpo are selectable, estimated with
their memory terms (grpo: a policy, a reference and a reward model), rendered, explained with a reason, and grpo
without a reward model is a located error."""

from __future__ import annotations

import pytest

from ftspec.compiler.build import render_project
from ftspec.compiler.pipeline import check_project
from ftspec.errors import SpecError
from tests.unit.compiler.test_methods_table import demo_copy


def test_reward_model_renders_a_reward_trainer_with_a_reason(tmp_path, demo_model_dir):
    result = check_project(_preference(tmp_path, "reward_model"))
    plan = result.plan
    assert (plan.method, plan.adapter) == ("reward_model", None)
    assert any("DPO suffices" in r.text for r in plan.decision.reasons)
    train = render_project(result, tmp_path / "project" / "build").files["train.py"]
    compile(train, "train.py", "exec")
    assert "from trl import RewardConfig, RewardTrainer" in train and "AutoModelForSequenceClassification" in train


def test_grpo_counts_a_reference_and_a_reward_model_and_renders_against_it(tmp_path, demo_model_dir):
    dpo = check_project(_preference(tmp_path / "a", "dpo")).plan.candidates
    result = check_project(_preference(tmp_path / "b", "grpo", reward_model="models/tiny-llama"))
    grpo = result.plan.candidates
    assert all(c.breakdown["reward"] > 0 for c in grpo) and all(c.breakdown.get("reward", 0) == 0 for c in dpo)
    train = render_project(result, tmp_path / "b" / "project" / "build").files["train.py"]
    compile(train, "train.py", "exec")
    assert "GRPO_BETA = 0.04" in train and "NUM_GENERATIONS = 4" in train
    assert "models/tiny-llama'\nMAX_NEW_TOKENS" in train and "super().__init__(reward_funcs=" in train


def test_grpo_without_a_reward_model_is_a_located_error(tmp_path, demo_model_dir):
    with pytest.raises(SpecError) as caught:
        check_project(_preference(tmp_path, "grpo"))
    text = "\n".join(caught.value.lines())
    assert "`grpo` needs a reward model" in text and "project.yaml:" in text


def _preference(root, method: str, reward_model: str | None = None):
    import json

    spec = demo_copy(root / "project", method, data_format="preference")
    for path in (root / "project" / "data").glob("*.jsonl"):
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        path.write_text("".join(json.dumps({"prompt": r["prompt"], "chosen": r["completion"], "rejected": "no"})
                                + "\n" for r in rows))
    if reward_model:
        text = spec.read_text().replace("\ntraining:\n", f"\ntraining:\n  reward_model: {reward_model}\n", 1)
        assert "reward_model:" in text
        spec.write_text(text)
    return spec


def test_a_reward_model_gets_the_scoring_eval_from_the_methods_table(tmp_path, demo_model_dir):
    """A reward model generates nothing: its eval.py (the table's eval_template) scores each held-out pair's chosen
    and rejected answer with the trained head, with no baselines; every other objective keeps the generating eval."""
    from ftspec.compiler.methods import OBJECTIVES

    result = check_project(_preference(tmp_path / "a", "reward_model"))
    evaluate = render_project(result, tmp_path / "a" / "project" / "build").files["eval.py"]
    compile(evaluate, "eval.py", "exec")
    assert "AutoModelForSequenceClassification" in evaluate and '"chosen_score": good' in evaluate
    assert "def generate(" not in evaluate and "MODELS = [\"finetuned\"]" in evaluate
    dpo = render_project(check_project(_preference(tmp_path / "b", "dpo")), tmp_path / "b" / "project" / "build")
    assert "def generate(" in dpo.files["eval.py"] and "chosen_score" not in dpo.files["eval.py"]
    assert [o.name for o in OBJECTIVES.values() if o.eval_template != "eval.py.j2"] == ["reward_model"]


def test_kto_is_one_entry_in_the_methods_table_and_renders_a_kto_trainer(tmp_path, demo_model_dir):
    """KTO (TRL 1.x keeps KTOTrainer in its main API): `method: kto` on preference pairs, an adapter by default,
    a reference model in memory, its beta from the spec, and the generating eval like DPO."""
    spec = _preference(tmp_path, "kto")
    spec.write_text(spec.read_text().replace("\ntraining:\n", "\ntraining:\n  kto_beta: 0.2\n", 1))
    result = check_project(spec)
    plan = result.plan
    assert (plan.method, plan.adapter) == ("kto", "lora")
    from ftspec.compiler.methods import method_rows

    [row] = [r for r in method_rows() if r.objective == "kto"]
    assert (row.trainer, row.spec_key) == ("KTOTrainer", "method: kto")
    assert row.memory == "reference model (full only), 2 sequences a row"
    files = render_project(result, tmp_path / "project" / "build").files
    compile(files["train.py"], "train.py", "exec")
    assert "from trl import KTOConfig, KTOTrainer" in files["train.py"] and "KTO_BETA = 0.2" in files["train.py"]
    assert "def generate(" in files["eval.py"]


def test_a_reward_model_gets_no_implied_latency_gate(tmp_path, demo_model_dir):
    """requirements.constraints.max_latency_ms implies a gate on generation latency; a reward model generates
    nothing (its eval scores pairs), so it gets none, while DPO on the same spec does."""
    from ftspec.spec.gated import implied_gates
    from ftspec.spec.load import load_spec

    reward = load_spec(_preference(tmp_path / "a", "reward_model")).spec
    dpo = load_spec(_preference(tmp_path / "b", "dpo")).spec
    assert reward.requirements.constraints.max_latency_ms == dpo.requirements.constraints.max_latency_ms == 300
    assert implied_gates(reward) == [] and [g.name for _, g in implied_gates(dpo)] == ["latency_p95"]
