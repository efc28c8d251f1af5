"""RunDir and Runs: the one owner of the run-folder contract (file names, status, kinds, listing, references)."""

from __future__ import annotations

import json
import os
import time

import pytest

from ftspec.errors import UsageError
from ftspec.runtime.rundir import REPORT_FILES, RunDir, Runs, id_time
from ftspec.runtime.status import RunStatus, read_status


def test_claim_writes_a_running_status_of_its_kind_owned_by_this_process(tmp_path):
    runs = Runs(tmp_path / "runs")
    run, status = runs.claim("baseline")
    assert run.path.parent == runs.root and run.path.is_dir()
    on_disk = json.loads((run.path / "status.json").read_text())
    assert (on_disk["id"], on_disk["state"], on_disk["kind"], on_disk["pid"]) == (run.id, "running", "baseline",
                                                                                  os.getpid())
    assert run.status() == status


def test_the_contract_names_each_file(tmp_path):
    run = RunDir(tmp_path / "20240101-000000-aaaa")
    assert run.train_log.name == "train_log.jsonl" and run.predictions.name == "predictions.jsonl"
    assert run.manifest.name == "manifest.json" and run.spec_snapshot.name == "spec.yaml"
    assert run.log("eval") == run.path / "logs" / "eval.log"
    assert run.checkpoints.name == "checkpoints" and run.model.name == "model"
    assert [run.report(name).name for name in REPORT_FILES] == ["report.json", "report.md", "junit.xml",
                                                                "report.html"]
    with pytest.raises(ValueError):
        run.report("notes.txt")


def test_a_status_from_before_kinds_reads_as_a_training_run_and_an_unknown_kind_as_unreadable(tmp_path):
    (tmp_path / "status.json").write_text(json.dumps({"id": "x", "state": "completed", "started": 1.0}))
    assert read_status(tmp_path).kind == "train"
    (tmp_path / "status.json").write_text(json.dumps({"id": "x", "state": "completed", "started": 1.0,
                                                      "kind": "mystery"}))
    assert read_status(tmp_path) is None


def test_listing_keeps_one_kind_and_orders_a_run_without_status_by_the_time_in_its_id(tmp_path, write_run):
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(1_700_000_000))
    write_run(tmp_path, f"{stamp}-aaaa", started=1_700_000_000.0)
    write_run(tmp_path, f"{stamp}-bbbb", started=1_700_000_100.0, kind="trial")
    later = time.strftime("%Y%m%d-%H%M%S", time.localtime(1_700_000_050))
    (tmp_path / f"{later}-cccc").mkdir()  # claimed, no status yet
    (tmp_path / "notes").mkdir()  # not a run folder
    runs = Runs(tmp_path)
    assert [run.id[-4:] for run, _ in runs.list()] == ["aaaa", "cccc", "bbbb"]
    assert [run.id[-4:] for run, _ in runs.list("trial")] == ["bbbb"]
    assert [run.id[-4:] for run, _ in runs.list("train")] == ["aaaa"]
    assert id_time(f"{later}-cccc") == 1_700_000_050.0


def test_eval_and_resume_resolve_the_same_references(tmp_path, write_run):
    write_run(tmp_path, "20240101-000000-aaaa", started=1.0)
    write_run(tmp_path, "20240102-000000-bbbb", started=2.0)
    runs = Runs(tmp_path)
    for ref in ("last", "20240101", "20240102-000000-bbbb"):
        assert runs.pick(ref).id == runs.find(ref)[0].id
    assert runs.pick(None).id == "20240102-000000-bbbb"
    with pytest.raises(UsageError, match="matches 2 runs"):
        runs.pick("2024")


def test_eval_can_score_a_folder_made_by_hand_when_it_is_named(tmp_path, write_run):
    (tmp_path / "my-run").mkdir()
    runs = Runs(tmp_path)
    assert runs.pick("my-run").path == tmp_path / "my-run"
    with pytest.raises(UsageError, match="no runs"):
        runs.pick(None)  # not a run by the id pattern: never `last`
    write_run(tmp_path, "20240101-000000-aaaa", started=1.0)
    assert runs.pick(None).id == "20240101-000000-aaaa"
    with pytest.raises(UsageError, match="no run `../x`"):
        runs.pick("../x")


def test_run_status_round_trips_through_the_run_dir(tmp_path):
    run = RunDir(tmp_path)
    assert run.status() is None
    status = RunStatus(id=run.id, state="completed", started=5.0, kind="trial")
    run.write_status(status)
    assert run.status() == status
