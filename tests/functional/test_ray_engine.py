"""`ftspec data audit --engine ray` and `check --engine ray` against the local engine: the same findings (checks,
rows, counts, notes) and the same flagged.jsonl, on the planted defects and on a sample of the GPTeacher data. Ray
runs locally (2 CPUs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.data.helpers import jsonl
from tests.unit.data.test_planted import EVAL, LONG, PLANTED

pytest.importorskip("ray")

REPO = Path(__file__).resolve().parents[2]
# ../shared/data beside the repository (a worktree one level deeper sees it two levels up)
GPTEACHER = next((p / "shared/data/gpteacher/toolformer-dedupe-only.json" for p in (REPO.parent, REPO.parents[1])
                  if (p / "shared/data/gpteacher/toolformer-dedupe-only.json").is_file()),
                 REPO.parent / "shared/data/gpteacher/toolformer-dedupe-only.json")
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "NO_COLOR": "1",
       "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}


def _audit(spec: Path, *engine: str) -> tuple[dict, str]:
    out = spec.parent / f"flagged-{'-'.join(engine) or 'local'}.jsonl"
    done = subprocess.run([sys.executable, "-m", "ftspec", "data", "audit", str(spec), "--out", str(out), "--json",
                           *engine], env=ENV, capture_output=True, text=True, timeout=600)
    assert done.returncode in (0, 2), done.stderr[-3000:]
    return json.loads(done.stdout), out.read_text(encoding="utf-8")


def _findings(document: dict) -> list[dict]:
    return [{k: v for k, v in f.items()} for f in document["audit"]["findings"]]


def _write_spec(root: Path, data_yaml: str, files: dict[str, str], models: str) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    spec = root / "project.yaml"
    spec.write_text("ftspec: 1\nname: t\nmetrics:\n  - {name: exact_match, threshold: '>= 0.99'}\n"
                    f"data:\n{data_yaml}models:\n{models}", encoding="utf-8")
    return spec


def _same(spec: Path) -> tuple[dict, str]:
    local, local_rows = _audit(spec)
    ray, ray_rows = _audit(spec, "--engine", "ray")
    assert _findings(ray) == _findings(local)
    assert ray_rows == local_rows  # flagged.jsonl: file, line, split, check, message and the row, in order
    assert ray["audit"]["stats"]["rows"] == local["audit"]["stats"]["rows"]
    # the per-model token length stats (min, median, p95, max, over the limit), measured on Ray's workers
    assert ray["audit"]["stats"]["token_lengths"] == local["audit"]["stats"]["token_lengths"]
    engine = ray["audit"]["stats"]["engine"]
    assert engine["name"] == "ray" and engine["rows_on_ray"] > 0 and engine["cache_hits"] > 0
    return ray, ray_rows


def test_ray_engine_finds_the_planted_defects_as_the_local_engine_does(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.train_from_iterator([LONG, "word the moon fact"], trainers.WordLevelTrainer(special_tokens=["[UNK]"]))
    (tmp_path / "models" / "tiny").mkdir(parents=True)
    tokenizer.save(str(tmp_path / "models" / "tiny" / "tokenizer.json"))
    spec = _write_spec(tmp_path, "  format: instruction\n  train: train.jsonl\n  eval: eval.jsonl\n"
                                 "  quality: {min_examples: 5, max_tokens: 64}\n",
                       {"train.jsonl": jsonl([row for _, row in PLANTED]), "eval.jsonl": jsonl(EVAL)},
                       "  - {name: tiny, path: models/tiny}\n")
    ray, rows = _same(spec)
    assert ray["audit"]["stats"]["token_lengths"]["tiny"]["rows"] > 0
    engine = ray["audit"]["stats"]["engine"]
    assert engine["lengths_on_ray"] == ray["audit"]["stats"]["token_lengths"]["tiny"]["rows"]
    assert engine["verified_pairs"] > 0  # the near duplicates were decided from Ray's band join
    planted = {kind for kind, _ in PLANTED} - {"ok", "blank", "fine"}  # fine: real inputs that look odd
    assert planted <= {f["check"] for f in ray["audit"]["findings"]}
    flagged = [json.loads(line) for line in rows.splitlines()]
    assert all(entry["file"] and entry["line"] >= 1 for entry in flagged)
    assert {e["line"] for e in flagged if e["check"] == "near_duplicate"} == \
        {n for n, (kind, _) in enumerate(PLANTED, 1) if kind == "near_duplicate"}


@pytest.mark.skipif(not GPTEACHER.is_file(), reason="the GPTeacher data lies beside the repository in CI")
def test_ray_engine_agrees_with_the_local_engine_on_gpteacher(tmp_path):
    records = json.loads(GPTEACHER.read_text(encoding="utf-8"))
    # a sample with near duplicates in it and an eval set that shares prompts with train
    train, held = records[:3000], records[3000:3400]
    spec = _write_spec(tmp_path, "  format: instruction\n  train: train.jsonl\n  eval: eval.json\n",
                       {"train.jsonl": jsonl(train + held[:40]), "eval.json": json.dumps(held)},
                       "  - {name: m, hub: org/model, params: 1B}\n")
    ray, _ = _same(spec)
    counts = {f["check"]: f["count"] for f in ray["audit"]["findings"]}
    assert counts.get("leakage", 0) >= 40 and counts.get("near_duplicate", 0) > 0


def test_check_with_the_ray_engine_decides_as_with_the_local_one(tmp_path):
    spec = _write_spec(tmp_path, "  format: instruction\n  train: train.jsonl\n  eval: eval.jsonl\n",
                       {"train.jsonl": jsonl([row for _, row in PLANTED]), "eval.jsonl": jsonl(EVAL)},
                       "  - {name: m, hub: org/model, params: 1B}\n")
    runs = [subprocess.run([sys.executable, "-m", "ftspec", "check", str(spec), "--json", *engine], env=ENV,
                           capture_output=True, text=True, timeout=600) for engine in ((), ("--engine", "ray"))]
    local, ray = (json.loads(run.stdout) for run in runs)
    assert runs[0].returncode == runs[1].returncode
    assert ray["audit"]["findings"] == local["audit"]["findings"] and ray["plan"] == local["plan"]


@pytest.mark.slow
def test_audit_on_a_running_ray_cluster_by_its_address(tmp_path):
    """`--address HOST:PORT`: the audit joins a Ray head started here (1 CPU), not a local instance of its own, and
    finds what the local engine finds. The head is this test's own (ray.cluster_utils.Cluster), shut down whatever
    happens; every subprocess has a timeout."""
    from ray.cluster_utils import Cluster

    spec = _write_spec(tmp_path, "  format: instruction\n  train: train.jsonl\n  eval: eval.jsonl\n",
                       {"train.jsonl": jsonl([row for _, row in PLANTED]), "eval.jsonl": jsonl(EVAL)},
                       "  - {name: m, hub: org/model, params: 1B}\n")
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False,
                                                            "object_store_memory": 128 * 1024 * 1024})
    try:
        address = cluster.address
        local, local_rows = _audit(spec)
        ray, ray_rows = _audit(spec, "--engine", "ray", "--address", address)
        assert _findings(ray) == _findings(local) and ray_rows == local_rows
        engine = ray["audit"]["stats"]["engine"]
        assert engine["name"] == "ray" and engine["rows_on_ray"] > 0
        assert engine["address"] == address  # it ran on that cluster, not on a local instance of its own
    finally:
        cluster.shutdown()
