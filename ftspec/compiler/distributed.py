"""Training past one process: what each backend shards (for the memory estimate), the plan's distributed setup
from the spec's `launch` section, and the per-node launch files (accelerate config, script, Slurm, DeepSpeed)."""

from __future__ import annotations

import json

from ftspec.compiler.plan import Distributed

# Which parts of the memory estimate a backend splits across the GPUs; the rest (activations, buffers) stays whole.
SHARDED_PARTS = {
    "ddp": (),
    "fsdp": ("weights", "gradients", "optimizer", "reference", "reward"),  # full shard
    "deepspeed_zero3": ("weights", "gradients", "optimizer", "reference", "reward"),
    "deepspeed_zero2": ("gradients", "optimizer"),
}
SHARDING_BACKENDS = ("fsdp", "deepspeed_zero2", "deepspeed_zero3")


def per_gpu_gib(estimate, backend: str, gpus: int) -> float:
    """One GPU's share of `estimate` (a memory.Estimate) when `backend` spreads it over `gpus` GPUs."""
    parts = sum(estimate.breakdown.get(k, 0.0) for k in SHARDED_PARTS[backend])
    return estimate.total_gib - parts + parts / max(gpus, 1)


def sharding_backend(launch) -> str | None:
    """The backend tried when a model does not fit one GPU: the spec's, or FSDP under auto; None for DDP."""
    if launch.backend == "auto":
        return "fsdp"
    return launch.backend if launch.backend in SHARDING_BACKENDS else None


def plan_distributed(launch, constraints, sharding: str) -> Distributed:
    """The plan's setup for gpus x nodes processes: the spec's backend, else DDP, or the sharding the fit needed."""
    total = constraints.gpus * constraints.nodes
    backend = launch.backend if launch.backend != "auto" else ("ddp" if sharding == "none" else sharding)
    mode, stage = ("deepspeed", int(backend[-1])) if backend.startswith("deepspeed") else (backend, None)
    return Distributed(mode=mode, num_processes=total, num_machines=constraints.nodes, use_cpu=launch.cpu,
                       zero_stage=stage, main_address=launch.main_address, main_port=launch.main_port)


def deepspeed_config(dist: Distributed, hp) -> dict:
    """The DeepSpeed config (deepspeed.json): `auto` values are filled in by transformers from the Trainer's
    arguments, so the batch and precision are set in one place."""
    zero: dict = {"stage": dist.zero_stage, "overlap_comm": True, "contiguous_gradients": True,
                  "reduce_bucket_size": "auto"}
    if dist.zero_stage == 3:
        zero.update({"stage3_prefetch_bucket_size": "auto", "stage3_param_persistence_threshold": "auto",
                     "stage3_gather_16bit_weights_on_model_save": True})
    precision = getattr(hp, "precision", "auto") if hp else "auto"
    return {"train_micro_batch_size_per_gpu": "auto", "gradient_accumulation_steps": "auto",
            "train_batch_size": "auto", "gradient_clipping": "auto",
            "bf16": {"enabled": "auto" if precision in ("auto", "bf16") and not dist.use_cpu else False},
            "fp16": {"enabled": "auto" if precision == "fp16" and not dist.use_cpu else False},
            "zero_optimization": zero}


# The documented shape of the deepspeed.json ftspec renders (DeepSpeed's "Configuration JSON" page): checked with
# jsonschema where DeepSpeed itself is not installed (its parser, DeepSpeedConfig, checks it where it is).
_AUTO_OR_NUMBER = {"anyOf": [{"const": "auto"}, {"type": "number", "minimum": 0}]}
DEEPSPEED_SCHEMA = {
    "type": "object",
    "required": ["train_micro_batch_size_per_gpu", "gradient_accumulation_steps", "zero_optimization"],
    "properties": {
        "train_micro_batch_size_per_gpu": _AUTO_OR_NUMBER, "gradient_accumulation_steps": _AUTO_OR_NUMBER,
        "train_batch_size": _AUTO_OR_NUMBER, "gradient_clipping": _AUTO_OR_NUMBER,
        "bf16": {"type": "object", "properties": {"enabled": {"enum": ["auto", True, False]}}},
        "fp16": {"type": "object", "properties": {"enabled": {"enum": ["auto", True, False]}}},
        "zero_optimization": {
            "type": "object", "required": ["stage"],
            "properties": {"stage": {"enum": [0, 1, 2, 3]}, "overlap_comm": {"type": "boolean"},
                           "contiguous_gradients": {"type": "boolean"}, "reduce_bucket_size": _AUTO_OR_NUMBER,
                           "stage3_prefetch_bucket_size": _AUTO_OR_NUMBER,
                           "stage3_param_persistence_threshold": _AUTO_OR_NUMBER,
                           "stage3_gather_16bit_weights_on_model_save": {"type": "boolean"}},
            "additionalProperties": False},
    },
    "additionalProperties": False,
}


def launch_files(env, context: dict) -> dict[str, str]:
    """accelerate.yaml (rank 0) and, past one process, accelerate_node_<r>.yaml and launch_node_<r>.sh for every
    node, slurm.sbatch, and deepspeed.json under DeepSpeed."""
    dist: Distributed = context["dist"]
    accelerate = env.get_template("accelerate.yaml.j2")
    files = {"accelerate.yaml": accelerate.render({**context, "machine_rank": 0})}
    if dist.mode == "single":
        return files
    for rank in range(dist.num_machines):
        files[f"accelerate_node_{rank}.yaml"] = accelerate.render({**context, "machine_rank": rank})
        files[f"launch_node_{rank}.sh"] = env.get_template("launch_node.sh.j2").render({**context,
                                                                                        "machine_rank": rank})
    files["slurm.sbatch"] = env.get_template("slurm.sbatch.j2").render(context)
    if dist.mode == "deepspeed":
        files["deepspeed.json"] = json.dumps(deepspeed_config(dist, context.get("hp")), indent=2) + "\n"
    return files
