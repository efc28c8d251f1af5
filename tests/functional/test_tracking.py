"""`tracking:` in the spec: `check` finds the tracker's package (or says how to install it) and the generated
train.py really writes TensorBoard events, read back with TensorBoard's own reader."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ftspec.compiler import tracking
from ftspec.compiler.build import render_project
from ftspec.compiler.pipeline import check_project
from ftspec.errors import UsageError
from tests.functional.test_run_e2e import small_project


def tracked_project(root: Path, model_dir: Path, tracker: str) -> Path:
    spec = small_project(root, model_dir, epochs=1, batch_size=4)
    spec.write_text(spec.read_text(encoding="utf-8") + f"tracking: {tracker}\n", encoding="utf-8")
    return spec


def test_check_finds_an_installed_tracker(tmp_path, demo_model_dir):
    plan = check_project(tracked_project(tmp_path, demo_model_dir, "tensorboard")).plan
    found = [p for p in plan.decision.prerequisites if p.name == "tracking"]
    assert [(p.met, p.blocking) for p in found] == [(True, True)]


def test_check_reports_a_missing_tracker_with_the_install_command(tmp_path, demo_model_dir, monkeypatch):
    # as on a machine without the package: its name is one that no distribution provides
    monkeypatch.setitem(tracking.TRACKERS, "mlflow", (("ftspec_no_such_tracker",), "pip install 'ftspec[mlflow]'"))
    result = check_project(tracked_project(tmp_path, demo_model_dir, "mlflow"))
    unmet = [p for p in result.plan.decision.blocked if p.name == "tracking"]
    assert len(unmet) == 1 and "pip install 'ftspec[mlflow]'" in unmet[0].hint
    assert "tracking: none" in unmet[0].hint
    with pytest.raises(UsageError, match="tracking"):
        render_project(result, tmp_path / "build")


def test_no_tracker_no_prerequisite(tmp_path, demo_model_dir):
    plan = check_project(small_project(tmp_path, demo_model_dir, epochs=1, batch_size=4)).plan
    assert "tracking" not in {p.name for p in plan.decision.prerequisites}



def train_three_steps(tmp_path: Path, model: Path, tracker: str, unset: tuple[str, ...] = (), **env: str) -> Path:
    """Check and build a project tracked by `tracker`, run its train.py for 3 steps; the run folder."""
    build = render_project(check_project(tracked_project(tmp_path, model, tracker)), tmp_path / "build")
    build.folder.mkdir()
    for name, text in build.files.items():
        (build.folder / name).write_text(text, encoding="utf-8")
    run_dir = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1", **env}
    for name in unset:
        env.pop(name, None)
    done = subprocess.run([sys.executable, "train.py", "--output-dir", str(run_dir), "--max-steps", "3"],
                          cwd=build.folder, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return run_dir

@pytest.mark.slow
def test_train_writes_tensorboard_events_with_the_train_loss(tmp_path, demo_model_dir):
    from tensorboard.backend.event_processing import event_accumulator

    run_dir = train_three_steps(tmp_path, demo_model_dir, "tensorboard")
    events = sorted((run_dir / "tensorboard").rglob("events.out.tfevents.*"))
    assert events, sorted(str(p) for p in run_dir.rglob("*"))
    accumulator = event_accumulator.EventAccumulator(str(events[0].parent))
    accumulator.Reload()
    assert "train/loss" in accumulator.Tags()["scalars"]
    losses = accumulator.Scalars("train/loss")
    assert [e.step for e in losses] == [1, 2, 3] and all(e.value > 0 for e in losses)


def _wandb_records(path: Path):
    """The records of a W&B run file (run-<id>.wandb): a 7-byte `:W&B` header, then LevelDB's log format (32 KiB
    blocks; each chunk a 7-byte header: CRC, length, type 1 whole / 2 first / 3 middle / 4 last) of protobuf
    Records. wandb has no public reader for it; `wandb sync` is what uploads it."""
    import struct

    from wandb.proto import wandb_internal_pb2

    data = path.read_bytes()
    assert data[:4] == b":W&B"
    position, parts = 7, b""
    while position + 7 <= len(data):
        if 32768 - position % 32768 < 7:  # a block's tail too short for a header is padding
            position += 32768 - position % 32768
            continue
        _crc, length, kind = struct.unpack("<IHB", data[position:position + 7])
        parts += data[position + 7:position + 7 + length]
        position += 7 + length
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(parts)
            parts = b""
            yield record


@pytest.mark.slow
def test_train_with_wandb_and_no_key_writes_an_offline_run_with_the_train_loss(tmp_path, demo_model_dir):
    import json

    pytest.importorskip("wandb")
    run_dir = train_three_steps(tmp_path, demo_model_dir, "wandb", unset=("WANDB_API_KEY", "WANDB_MODE", "WANDB_DIR"),
                                WANDB_SILENT="true", WANDB_CONFIG_DIR=str(tmp_path / "wandb-config"))
    (run_file,) = (run_dir / "wandb").glob("offline-run-*/run-*.wandb")  # offline: nothing left the machine
    history = [record.history.item for record in _wandb_records(run_file)
               if record.WhichOneof("record_type") == "history"]
    losses = [json.loads(item.value_json) for items in history for item in items
              if (item.key or "/".join(item.nested_key)) == "train/loss"]
    assert len(losses) == 3 and all(loss > 0 for loss in losses)
