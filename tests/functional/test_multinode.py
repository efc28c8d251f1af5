"""Training past one process, on CPU: FSDP over gloo on the demo model with 2 processes, and a 2-node launch
simulated on one machine (rank 0 and rank 1 over 127.0.0.1, a free port) that trains, leaves a checkpoint that
loads, and resumes from it through the generated launch_node_<r>.sh scripts. Plus the DeepSpeed config a spec
renders, read by DeepSpeed's own config parser."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.functional.test_run_e2e import small_project

WORKER = Path(__file__).with_name("fsdp_cpu_worker.py")
REPO = Path(__file__).resolve().parents[2]
ENV = {"OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false", "NO_COLOR": "1",
       "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def distributed_project(root: Path, model_dir: Path, constraints: str, launch: str) -> Path:
    spec = small_project(root, model_dir, epochs=1, batch_size=2)
    text = spec.read_text(encoding="utf-8")
    start = text.index("  constraints:")
    text = text[:start] + f"  constraints: {constraints}\n" + text[text.index("\n", start) + 1:]
    spec.write_text(text + f"launch: {launch}\n", encoding="utf-8")
    return spec


def _ftspec(*args: str, cwd: Path | None = None, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ftspec", *args], cwd=cwd, env={**os.environ, **ENV},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen)


def _rows(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "train_log.jsonl").read_text().splitlines() if line.strip()]


@pytest.mark.slow
def test_fsdp_shards_the_demo_model_across_two_gloo_processes_and_trains(demo_model_dir, tmp_path):
    spec = distributed_project(tmp_path / "p", demo_model_dir, "{gpu_memory_gb: 24, gpus: 2}",
                               "{backend: fsdp, cpu: true}")
    built = subprocess.run([sys.executable, "-m", "ftspec", "build", str(spec), "--json"], env={**os.environ, **ENV},
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    plan = json.loads((spec.parent / "build" / "decision.json").read_text())["plan"]["distributed"]
    assert (plan["mode"], plan["num_processes"], plan["use_cpu"]) == ("fsdp", 2, True)
    out = tmp_path / "out"
    out.mkdir()
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
                           str(free_port()), str(WORKER), str(demo_model_dir), str(spec.parent / "data/train.jsonl"),
                           str(out)], env={**os.environ, **ENV}, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    ranks = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    for seen in ranks:
        assert seen["world"] == 2
        assert seen["local_params"] * 2 == seen["full_params"]  # each process holds half of every sharded weight
        assert all(loss == loss and loss < 20 for loss in seen["losses"])
        assert seen["losses"][-1] < seen["losses"][0]
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(demo_model_dir)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(torch.load(out / "full_state.pt"), strict=True)  # the gathered weights are whole
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())


def _wait_for_run(runs: Path, proc: subprocess.Popen, timeout: float = 120) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [p for p in runs.iterdir() if p.is_dir()] if runs.is_dir() else []
        if found:
            return found[0]
        assert proc.poll() is None, proc.stdout.read()
        time.sleep(0.2)
    raise AssertionError("rank 0 made no run folder")


@pytest.mark.slow
def test_two_nodes_on_one_machine_train_save_a_checkpoint_that_loads_and_resume(demo_model_dir, tmp_path):
    port = free_port()
    spec = distributed_project(tmp_path / "p", demo_model_dir, "{gpu_memory_gb: 24, gpus: 1, nodes: 2}",
                               f"{{backend: ddp, cpu: true, main_address: 127.0.0.1, main_port: {port}}}")
    build = spec.parent / "build"
    rank0 = _ftspec("run", str(spec), "--no-eval", "--node-rank", "0")
    run_dir = _wait_for_run(spec.parent / "runs", rank0)
    rank1 = _ftspec("run", str(spec), "--node-rank", "1")  # joins the newest run: the one rank 0 just started
    try:
        out1, _ = rank1.communicate(timeout=600)
        out0, _ = rank0.communicate(timeout=120)
    finally:
        for proc in (rank0, rank1):  # a node left waiting for its peer: ftspec forwards the signal to its child
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30)
    assert rank0.returncode == 0, out0 + (run_dir / "logs/train.log").read_text()[-3000:]
    assert rank1.returncode == 0, out1
    assert f"joins run {run_dir.name}" in out1 and "node 1 done" in out1
    assert {f"launch_node_{r}.sh" for r in (0, 1)} <= {p.name for p in build.iterdir()}
    rows = _rows(run_dir)
    steps = [r for r in rows if r["type"] == "train"]
    # two processes, one a node, each with per-device batch 2: one step is 4 of the rows left after the dev split
    start = next(r for r in rows if r["type"] == "start")
    assert steps[0]["epoch"] == pytest.approx(1 / math.ceil(start["num_train_rows"] / 4))  # steps an epoch
    checkpoints = sorted((run_dir / "checkpoints").glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    assert checkpoints and checkpoints[-1].name == f"checkpoint-{steps[-1]['step']}"
    from transformers import AutoModelForCausalLM

    assert AutoModelForCausalLM.from_pretrained(run_dir / "model").num_parameters() > 0
    # resume both nodes from the last checkpoint through the generated scripts, 4 steps further
    last = steps[-1]["step"]
    env = {**os.environ, **ENV, "PYTHON": sys.executable, "MAIN_PORT": str(free_port())}
    nodes = [subprocess.Popen(["sh", str(build / f"launch_node_{r}.sh"), str(run_dir), "--resume", "--max-steps",
                               str(last + 4)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for r in (1, 0)]
    outs = [node.communicate(timeout=600)[0] for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], outs[1][-3000:] + outs[0][-3000:]
    rows = _rows(run_dir)
    start = [r for r in rows if r["type"] == "start"][-1]
    assert start["resumed_from"].endswith(f"checkpoint-{last}")
    assert [r["step"] for r in rows[rows.index(start):] if r["type"] == "train"] == list(range(last + 1, last + 5))
    assert (run_dir / "checkpoints" / f"checkpoint-{last + 4}").is_dir()


def test_deepspeed_config_from_spec_fits_the_documented_schema(demo_model_dir, tmp_path):
    """Where DeepSpeed does not install (it builds from source against torch), the rendered config is checked
    against the documented shape (distributed.DEEPSPEED_SCHEMA); the next test runs DeepSpeed's own parser."""
    import jsonschema

    from ftspec.compiler.build import render_project
    from ftspec.compiler.distributed import DEEPSPEED_SCHEMA
    from ftspec.compiler.pipeline import check_project

    for stage in (2, 3):
        root = tmp_path / f"zero{stage}"
        spec = distributed_project(root, demo_model_dir,
                                   "{gpu_memory_gb: 24, gpus: 4, nodes: 2}", f"{{backend: deepspeed_zero{stage}}}")
        config = json.loads(render_project(check_project(spec), root / "build").files["deepspeed.json"])
        jsonschema.validate(config, DEEPSPEED_SCHEMA)
        assert config["zero_optimization"]["stage"] == stage
    with pytest.raises(jsonschema.ValidationError):  # the schema does reject what DeepSpeed would
        jsonschema.validate({**config, "zero_optimization": {"stage": 4}}, DEEPSPEED_SCHEMA)


def test_deepspeed_config_from_spec_passes_deepspeed_parser(demo_model_dir, tmp_path):
    pytest.importorskip("deepspeed")
    from deepspeed.runtime.config import DeepSpeedConfig
    from transformers import TrainingArguments
    from transformers.integrations.deepspeed import HfTrainerDeepSpeedConfig

    from ftspec.compiler.build import render_project
    from ftspec.compiler.pipeline import check_project

    for stage in (2, 3):
        root = tmp_path / f"zero{stage}"
        spec = distributed_project(root, demo_model_dir,
                                   "{gpu_memory_gb: 24, gpus: 4, nodes: 2}", f"{{backend: deepspeed_zero{stage}}}")
        files = render_project(check_project(spec), root / "build").files
        config = json.loads(files["deepspeed.json"])
        assert "deepspeed_config_file: deepspeed.json" in files["accelerate_node_1.yaml"]
        assert "machine_rank: 1" in files["accelerate_node_1.yaml"]
        # the `auto` values are what transformers fills in from the Trainer's arguments, as it does at launch
        hf = HfTrainerDeepSpeedConfig(config)
        hf.trainer_config_process(TrainingArguments(output_dir=str(root / "o"), per_device_train_batch_size=2,
                                                    gradient_accumulation_steps=3, use_cpu=True, report_to=[]))
        parsed = DeepSpeedConfig(hf.config)
        assert parsed.zero_optimization_stage == stage
        assert parsed.train_micro_batch_size_per_gpu == 2 and parsed.gradient_accumulation_steps == 3
