"""The decision matrix, table-driven: each case is a spec written as YAML, loaded, audited (row counts) and decided."""

from __future__ import annotations

import copy
import io
import json
import re

import pytest
from ruamel.yaml import YAML

from ftspec.compiler.decide import decide
from ftspec.data.findings import AuditReport
from ftspec.spec.load import load_spec

LOCATION = re.compile(r"^.+\.yaml:\d+:\d+$")
BASE = {
    "ftspec": 1,
    "name": "case",
    "requirements": {"objective": "Answer well.", "use_cases": ["one use case"]},
    "metrics": [{"name": "exact_match", "threshold": ">= 0.9"}],
    "data": {"format": "prompt_completion", "train": "train.jsonl", "eval": "eval.jsonl"},
    "models": [{"name": "m7", "hub": "meta-llama/Llama-2-7b-hf", "params": "7B"}],
}


def merge(base: dict, changes: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in changes.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def dump(spec: dict) -> str:
    out = io.StringIO()
    YAML(typ="safe", pure=True).dump(spec, out)
    return out.getvalue()


def write_spec(tmp_path, changes: dict):
    spec = merge(BASE, changes)
    for name in ("train.jsonl", "eval.jsonl"):
        (tmp_path / name).write_text(json.dumps({"prompt": "p", "completion": "c"}) + "\n")
    path = tmp_path / "project.yaml"
    path.write_text(dump(spec))
    return load_spec(path)


def audited(rows: int | None) -> AuditReport | None:
    return None if rows is None else AuditReport(stats={"clean_rows": {"train": rows, "eval": 100}})


def tried(approach: str, score: float) -> list:
    return [{"approach": approach, "scores": {"exact_match": score}}]


HEAVY_TRAFFIC = {"requests_per_day": 200000, "prompt_tokens": 3000, "completion_tokens": 50}
LIGHT_TRAFFIC = {"requests_per_day": 5, "prompt_tokens": 400, "completion_tokens": 50}
SEVENTY_B = [{"name": "m70", "hub": "meta-llama/Llama-2-70b-hf", "params": "70B"}]
HALF_B = [{"name": "q05", "hub": "Qwen/Qwen2.5-0.5B-Instruct", "params": "0.5B"}]

# (id, spec changes, clean train rows, approach, method, adapter). Nothing tried and nothing measured: the approach
# is the simplest (prompting, or RAG for knowledge) until `ftspec baseline` measures it; the fine-tune the needs
# point to is planned all the same (method, adapter), for `build --force`.
CASES = [
    ("nothing", {}, 400, "prompting", None, None),
    ("new_knowledge", {"requirements": {"needs": ["new_knowledge"]}}, 400, "rag", None, None),
    ("realtime", {"requirements": {"needs": ["realtime_updates"]}}, 400, "rag", None, None),
    ("citations", {"requirements": {"needs": ["citations"]}}, 400, "rag", None, None),
    ("strict_format", {"requirements": {"needs": ["strict_format"]}}, 400, "prompting", "lora", None),
    ("niche_vocabulary", {"requirements": {"needs": ["niche_vocabulary"]}}, 400, "prompting", "lora", None),
    ("tone_style", {"requirements": {"needs": ["tone_style"]}}, 400, "prompting", "lora", None),
    ("domain_expertise", {"requirements": {"needs": ["domain_expertise"]}}, 400, "prompting", "lora", None),
    ("knowledge+format", {"requirements": {"needs": ["new_knowledge", "strict_format"]}}, 400,
     "rag", "lora", None),
    ("citations+tone", {"requirements": {"needs": ["citations", "tone_style"]}}, 400,
     "rag", "lora", None),
    ("prompt plateaued", {"requirements": {"tried": tried("few_shot_prompting", 0.5)}}, 400,
     "fine_tuning", "lora", None),
    ("prompt meets bar", {"requirements": {"tried": tried("prompting", 0.95)}}, 400, "prompting", None, None),
    ("format but prompt meets", {"requirements": {"needs": ["strict_format"], "tried": tried("prompting", 0.93)}},
     400, "prompting", None, None),
    ("rag plateaued", {"requirements": {"needs": ["new_knowledge"], "tried": tried("rag", 0.6)}}, 400,
     "fine_tuning_and_rag", "lora", None),
    ("rag meets bar", {"requirements": {"needs": ["citations"], "tried": tried("rag", 0.91)}}, 400,
     "rag", None, None),
    ("cost pays back", {"requirements": {"needs": ["reduce_prompt_cost"], "traffic": HEAVY_TRAFFIC}}, 400,
     "fine_tuning", "lora", None),
    ("cost does not", {"requirements": {"needs": ["reduce_prompt_cost"], "traffic": LIGHT_TRAFFIC}}, 400,
     "prompting", None, None),
    ("cost unknown", {"requirements": {"needs": ["reduce_prompt_cost"]}}, 400, "prompting", None, None),
    ("preference -> dpo lora", {"requirements": {"needs": ["tone_style"]}, "data": {"format": "preference"}}, 400,
     "prompting", "dpo", "lora"),
    ("preference small gpu -> dpo qlora", {"requirements": {"needs": ["tone_style"], "constraints":
                                           {"gpu_memory_gb": 12}}, "data": {"format": "preference"}}, 400,
     "prompting", "dpo", "qlora"),
    ("7B long seq 16GB -> qlora", {"requirements": {"needs": ["strict_format"], "constraints": {"gpu_memory_gb": 16}},
                                   "training": {"max_seq_length": 2048}}, 400, "prompting", "qlora", None),
    ("small model, much data -> full", {"requirements": {"needs": ["strict_format"], "constraints":
                                        {"gpu_memory_gb": 80}}, "models": HALF_B}, 20000, "prompting", "full", None),
    ("small model, little data -> lora", {"requirements": {"needs": ["strict_format"], "constraints":
                                          {"gpu_memory_gb": 80}}, "models": HALF_B}, 400, "prompting", "lora", None),
    ("70B on 4x24GB -> sharded qlora", {"requirements": {"needs": ["strict_format"], "constraints":
                                        {"gpu_memory_gb": 24, "gpus": 4}}, "models": SEVENTY_B}, 400,
     "prompting", "qlora", None),
    ("method set in spec", {"requirements": {"needs": ["strict_format"]}, "method": "qlora"}, 400,
     "prompting", "qlora", None),
    ("plateau + knowledge + style", {"requirements": {"needs": ["realtime_updates", "tone_style"],
                                                      "tried": tried("few_shot_prompting", 0.2)}}, 400,
     "fine_tuning_and_rag", "lora", None),
]


@pytest.mark.parametrize(("changes", "rows", "approach", "method", "adapter"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_decision_matrix(tmp_path, changes, rows, approach, method, adapter):
    loaded = write_spec(tmp_path, changes)
    plan = decide(loaded, audited(rows))
    assert plan.decision.approach == approach
    assert plan.method == method
    assert plan.adapter == adapter
    assert plan.decision.reasons, "every conclusion carries its reasons"
    for reason in plan.decision.reasons:
        if reason.spec_path:
            assert LOCATION.match(reason.location), reason
    if method:
        assert plan.hyperparameters is not None and plan.model is not None
        chosen = [c for c in plan.candidates if c.name == plan.model.name and c.method == method
                  and c.adapter == adapter]
        assert chosen and chosen[0].fits


def test_reasons_point_at_the_need_and_the_score(tmp_path):
    loaded = write_spec(tmp_path, {"requirements": {"needs": ["citations", "strict_format"],
                                                    "tried": tried("few_shot_prompting", 0.4)}})
    text = (tmp_path / "project.yaml").read_text().splitlines()
    plan = decide(loaded, audited(400))
    by_path = {r.spec_path: r for r in plan.decision.reasons if r.spec_path}
    need = by_path["requirements.needs[0]"]
    line, col = map(int, need.location.rsplit(":", 2)[1:])
    assert text[line - 1][col - 1:].startswith("citations")
    score = by_path["requirements.tried[0].scores.exact_match"]
    assert "0.4" in score.text and ">= 0.9" in score.text


def test_cost_rule_reports_the_break_even(tmp_path):
    plan = decide(write_spec(tmp_path, {"requirements": {"needs": ["reduce_prompt_cost"],
                                                         "traffic": HEAVY_TRAFFIC}}), audited(400))
    assert plan.cost["favours_fine_tuning"] and plan.cost["break_even_months"] < 12
    assert any("pays for itself" in r.text for r in plan.decision.reasons)
    unknown = decide(write_spec(tmp_path, {"requirements": {"needs": ["reduce_prompt_cost"]}}), audited(400))
    assert unknown.cost is None and any("requirements.traffic" in r.text for r in unknown.decision.reasons)


def test_sharded_and_replicated_layouts(tmp_path):
    sharded = decide(write_spec(tmp_path, {"requirements": {"needs": ["strict_format"], "constraints":
                                           {"gpu_memory_gb": 24, "gpus": 4}}, "models": SEVENTY_B}), audited(400))
    assert sharded.distributed.mode == "fsdp" and sharded.distributed.num_processes == 4
    chosen = next(c for c in sharded.candidates if c.method == "qlora")
    assert chosen.sharding == "fsdp" and chosen.estimated_memory_gb <= 24
    replicated = decide(write_spec(tmp_path, {"requirements": {"needs": ["strict_format"], "constraints":
                                              {"gpu_memory_gb": 24, "gpus": 2}}}), audited(400))
    assert replicated.distributed.mode == "ddp" and replicated.distributed.num_processes == 2


def test_nothing_fits_blocks_the_build(tmp_path):
    plan = decide(write_spec(tmp_path, {"requirements": {"needs": ["strict_format"], "constraints":
                                        {"gpu_memory_gb": 24}}, "models": SEVENTY_B}), audited(400))
    assert [p.name for p in plan.decision.blocked] == ["baseline", "fits_budget"]
    assert not any(c.fits for c in plan.candidates)


def test_no_gpu_given_assumes_24gb(tmp_path):
    plan = decide(write_spec(tmp_path, {"requirements": {"needs": ["strict_format"]}}), audited(400))
    assert any("assume one 24 GB GPU" in r.text for r in plan.decision.reasons)


def test_prerequisites_list_what_is_missing(tmp_path):
    spec = merge(BASE, {"requirements": {"needs": ["strict_format"]}})
    spec["requirements"].pop("objective")
    spec["requirements"]["use_cases"] = []
    spec["data"].pop("eval")
    for name in ("train.jsonl",):
        (tmp_path / name).write_text("{}\n")
    (tmp_path / "project.yaml").write_text(dump(spec))
    plan = decide(load_spec(tmp_path / "project.yaml"), audited(10))
    blocked = {p.name: p.hint for p in plan.decision.blocked}
    assert set(blocked) == {"objective", "use_cases", "eval_set", "clean_data", "baseline"}
    assert "10 clean training rows" in blocked["clean_data"]
    assert all(blocked.values())


def test_unknown_row_count_is_said_and_does_not_block(tmp_path):
    plan = decide(write_spec(tmp_path, {"requirements": {"needs": ["strict_format"]}}), None)
    clean = next(p for p in plan.decision.prerequisites if p.name == "clean_data")
    assert not clean.met and not clean.blocking and "unknown" in clean.hint
    assert plan.hyperparameters.epochs == 3


def test_spec_overrides_win_and_say_where(tmp_path):
    loaded = write_spec(tmp_path, {"requirements": {"needs": ["strict_format"]},
                                   "training": {"learning_rate": 1e-4, "lora": {"r": 8}}})
    hp = decide(loaded, audited(400)).hyperparameters
    assert hp.learning_rate == 1e-4 and hp.lora.r == 8 and hp.lora.alpha == 16
    assert hp.reasons["learning_rate"] == f"set in the spec ({loaded.locate('training', 'learning_rate')})"
    assert "set in the spec" in hp.reasons["lora.r"]


@pytest.mark.parametrize(("method", "rows", "lr_range", "epochs"),
                         [("lora", 400, (1e-4, 2e-4), 3), ("lora", 5000, (1e-4, 2e-4), 2),
                          ("full", 20000, (1e-5, 5e-5), 1)])
def test_defaults_depend_on_method_and_data_size(tmp_path, method, rows, lr_range, epochs):
    loaded = write_spec(tmp_path, {"requirements": {"needs": ["strict_format"], "constraints": {"gpu_memory_gb": 80}},
                                   "method": method, "models": HALF_B})
    hp = decide(loaded, audited(rows)).hyperparameters
    assert lr_range[0] <= hp.learning_rate <= lr_range[1]
    assert hp.epochs == epochs


def test_perplexity_metric_and_baselines_reach_the_eval_plan(tmp_path):
    plan = decide(write_spec(tmp_path, {"metrics": [{"name": "perplexity", "threshold": "<= 20"}],
                                        "evaluation": {"baselines": [{"name": "base_few_shot", "k": 5}]}}),
                  audited(400))
    assert plan.evaluation.perplexity
    assert plan.evaluation.baselines == [{"name": "base_few_shot", "k": 5}]


def test_local_model_config_gives_params_context_and_chat_template(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    config = {"hidden_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2,
              "intermediate_size": 704, "vocab_size": 5000, "max_position_embeddings": 512}
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "tokenizer_config.json").write_text(json.dumps({"chat_template": "{{ messages }}"}))
    plan = decide(write_spec(tmp_path, {"requirements": {"needs": ["strict_format"]},
                                        "models": [{"name": "local", "path": "model"}]}), audited(400))
    attention = 256 * 256 * 2 + 256 * 128 * 2
    expected = 5000 * 256 * 2 + 4 * (attention + 3 * 256 * 704 + 2 * 256) + 256
    assert plan.model.params == expected
    assert plan.model.has_chat_template and plan.prompt_format.kind == "chat_template"
    assert plan.hyperparameters.max_seq_length == 512  # capped by the model's context window


def test_no_chat_template_uses_the_spec_template_or_a_default(tmp_path):
    base = {"requirements": {"needs": ["strict_format"]}, "data": {"format": "instruction"}}
    plan = decide(write_spec(tmp_path, base), audited(400))
    assert plan.prompt_format.kind == "template" and "{instruction}" in plan.prompt_format.template
    own = decide(write_spec(tmp_path, merge(base, {"data": {"prompt_template": "Q: {instruction}\nA: "}})),
                 audited(400))
    assert own.prompt_format.template == "Q: {instruction}\nA: "


def test_json_contract(tmp_path):
    body = decide(write_spec(tmp_path, {"requirements": {"needs": ["strict_format"]}}), audited(400)).to_json()
    assert {"approach", "reasons", "prerequisites"} <= set(body["decision"])
    assert {"name", "met", "hint"} <= set(body["decision"]["prerequisites"][0])
    assert {"method", "model", "candidates"} <= set(body["plan"])
    assert {"name", "method", "estimated_memory_gb", "fits"} <= set(body["plan"]["candidates"][0])
