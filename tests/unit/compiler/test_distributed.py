"""Training past one process: what each backend shards in the memory estimate, which backend the spec's launch
section reaches, and the per-node files a build gets (accelerate configs, launch scripts, Slurm, DeepSpeed)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from ftspec.compiler.distributed import SHARDED_PARTS, per_gpu_gib
from ftspec.compiler.memory import MemoryEstimate
from ftspec.compiler.pipeline import check_project
from ftspec.compiler.render import render_build
from ftspec.errors import UsageError
from ftspec.runtime.launch import node_train_argv

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "golden"))
from golden_plans import make_paths, make_plan  # noqa: E402

BREAKDOWN = {"weights": 14.0, "gradients": 14.0, "optimizer": 56.0, "activations": 6.0, "reference": 0.0, "reward": 0.0,
             "overhead": 1.5}


@pytest.mark.parametrize("backend", ["ddp", "fsdp", "deepspeed_zero2", "deepspeed_zero3"])
def test_each_backend_splits_only_its_parts_across_the_gpus(backend):
    estimate = MemoryEstimate(total_gib=sum(BREAKDOWN.values()), breakdown=BREAKDOWN, trainable_params=7e9)
    whole = sum(v for k, v in BREAKDOWN.items() if k not in SHARDED_PARTS[backend])
    split = sum(BREAKDOWN[k] for k in SHARDED_PARTS[backend])
    assert per_gpu_gib(estimate, backend, 8) == pytest.approx(whole + split / 8)
    assert per_gpu_gib(estimate, backend, 1) == pytest.approx(estimate.total_gib)


def test_zero2_keeps_the_weights_whole_and_zero3_shards_them():
    assert set(SHARDED_PARTS["deepspeed_zero2"]) == {"gradients", "optimizer"}
    assert set(SHARDED_PARTS["deepspeed_zero3"]) == set(SHARDED_PARTS["fsdp"]) >= {"weights", "gradients",
                                                                                   "optimizer"}


def _spec(tmp_path: Path, backend: str, nodes: int = 2) -> Path:
    (tmp_path / "data").mkdir(parents=True, exist_ok=True)
    rows = "".join(json.dumps({"prompt": f"question {i} about a topic {i * 7}", "completion": f"answer {i}"}) + "\n"
                   for i in range(60))
    (tmp_path / "data" / "train.jsonl").write_text(rows)
    (tmp_path / "data" / "eval.jsonl").write_text(rows.replace("question", "query").replace("answer", "reply"))
    spec = tmp_path / "project.yaml"
    spec.write_text(f"""ftspec: 1
name: big
requirements:
  objective: Answer questions about a topic.
  use_cases: [answer questions]
  tried: [{{approach: few_shot_prompting, scores: {{exact_match: 0.1}}}}]
  constraints: {{gpu_memory_gb: 80, gpus: 8, nodes: {nodes}}}
data: {{format: prompt_completion, train: data/train.jsonl, eval: data/eval.jsonl}}
models: [{{name: big, hub: org/big, params: 10B}}]
method: full
metrics: [{{name: exact_match, threshold: ">= 0.5"}}]
launch: {{backend: {backend}, main_address: head-node.cluster, main_port: 29600}}
""")
    return spec


@pytest.mark.parametrize("backend", ["fsdp", "deepspeed_zero2", "deepspeed_zero3"])
def test_every_backend_is_reachable_from_the_spec_and_sized_by_its_sharding(tmp_path, backend):
    plan = check_project(_spec(tmp_path, backend)).plan
    dist = plan.distributed
    assert (dist.num_processes, dist.num_machines) == (16, 2)
    assert (dist.main_address, dist.main_port) == ("head-node.cluster", 29600)
    assert (dist.mode, dist.zero_stage) == (("fsdp", None) if backend == "fsdp" else ("deepspeed", int(backend[-1])))
    assert plan.candidates[0].sharding == backend


def test_zero3_needs_less_memory_a_gpu_than_zero2(tmp_path):
    per_gpu = {b: check_project(_spec(tmp_path / b, b)).plan.candidates[0].estimated_memory_gb
               for b in ("deepspeed_zero2", "deepspeed_zero3")}
    assert per_gpu["deepspeed_zero3"] < per_gpu["deepspeed_zero2"]


def test_two_nodes_render_a_config_and_a_launch_script_per_rank_and_a_slurm_job():
    plan = make_plan("lora", mode="fsdp", processes=4, machines=2)
    files = render_build(plan, make_paths(plan))
    for rank in (0, 1):
        assert f"machine_rank: {rank}\n" in files[f"accelerate_node_{rank}.yaml"]
        script = files[f"launch_node_{rank}.sh"]
        assert f"--config_file accelerate_node_{rank}.yaml" in script and f"--machine_rank {rank}" in script
    assert "#SBATCH --nodes=2" in files["slurm.sbatch"] and "#SBATCH --gpus-per-node=2" in files["slurm.sbatch"]
    assert files["accelerate.yaml"] == files["accelerate_node_0.yaml"]
    assert "deepspeed.json" not in files


def test_one_process_renders_no_launch_files():
    plan = make_plan("lora")
    assert not [name for name in render_build(plan, make_paths(plan)) if "node" in name or name == "slurm.sbatch"]


def test_a_node_rank_outside_the_build_is_refused(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"distributed": {"num_machines": 2}}))
    (tmp_path / "accelerate_node_1.yaml").write_text("")
    assert "accelerate_node_1.yaml" in node_train_argv(tmp_path, 1, ["--output-dir", "x"])
    with pytest.raises(UsageError, match="ranks 0..1"):
        node_train_argv(tmp_path, 2, [])
