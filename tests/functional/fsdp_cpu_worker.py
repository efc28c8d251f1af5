"""One process of the FSDP test (tests/functional/test_multinode.py), started twice by torchrun over gloo.

accelerate 1.16 applies FSDP only on accelerator devices (on CPU its state is MULTI_CPU: DDP), so this worker shards
the demo model with torch's own FSDP2 (`fully_shard`, what accelerate's fsdp_version 2 calls), one decoder layer a
unit as TRANSFORMER_BASED_WRAP does, trains a few steps on the project's rows and writes what it saw as JSON.
"""

import json
import sys
from pathlib import Path

import torch
import torch.distributed as dist
from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import fully_shard
from transformers import AutoModelForCausalLM, AutoTokenizer

STEPS = 4


def main() -> None:
    model_dir, rows_path, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    mesh = init_device_mesh("cpu", (world,))
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    full = sum(p.numel() for p in model.parameters())
    for layer in model.model.layers:
        fully_shard(layer, mesh=mesh)
    fully_shard(model, mesh=mesh)
    local = sum(p.to_local().numel() for p in model.parameters())
    rows = [json.loads(line) for line in rows_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = [row["prompt"] + row["completion"] for row in rows][rank::world]  # each rank its own share of the data
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    batch = tokenizer(texts[:2], return_tensors="pt", padding=True)  # the same rows each step: the loss must fall
    for _ in range(STEPS):
        loss = model(**batch, labels=batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    state = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    if rank == 0:
        torch.save(state, out / "full_state.pt")
    (out / f"rank{rank}.json").write_text(json.dumps({"rank": rank, "world": world, "full_params": full,
                                                      "local_params": local, "losses": losses}))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
