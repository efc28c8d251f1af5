"""`ftspec baseline` refuses what it cannot measure offline, with a located hint, before anything is written."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import SPECS
from tests.invoke import invoke


def test_no_local_model_is_a_usage_error(tmp_path: Path):
    project = tmp_path / "support-faq"
    shutil.copytree(SPECS / "support-faq", project, ignore=shutil.ignore_patterns("build", "runs", "baselines"))
    result = invoke(["baseline", project / "project.yaml"])
    assert result.exit_code == 2, result.output
    assert "no candidate model has a local `path`" in result.output and "add `path:`" in result.output
    assert not (project / "baselines").exists()


def test_an_unknown_model_name_lists_the_candidates(tmp_path: Path):
    project = tmp_path / "support-faq"
    shutil.copytree(SPECS / "support-faq", project, ignore=shutil.ignore_patterns("build", "runs", "baselines"))
    result = invoke(["baseline", project / "project.yaml", "--model", "qwen-05b"])
    assert result.exit_code == 2
    assert "no model `qwen-05b`" in result.output and "qwen-0.5b" in result.output


def test_nothing_measured_keeps_check_light(tmp_path: Path):
    """Without a baselines/ folder the decision reads no measurement and hashes nothing."""
    from ftspec.baseline.evidence import read_evidence
    from ftspec.spec.load import load_spec

    project = tmp_path / "support-faq"
    shutil.copytree(SPECS / "support-faq", project, ignore=shutil.ignore_patterns("build", "runs", "baselines"))
    evidence = read_evidence(load_spec(project / "project.yaml"))
    assert evidence.measurements == [] and evidence.stale == []


def test_a_measurement_is_a_run_folder_of_kind_baseline(tmp_path: Path):
    """baselines/<id>/ is claimed by the run-folder owner: an exclusive mkdir and a status.json of kind baseline."""
    from ftspec.baseline.store import claim
    from ftspec.runtime.rundir import Runs

    first, second = claim(tmp_path)[0], claim(tmp_path)[0]
    assert first.path.parent == second.path.parent == tmp_path / "baselines" and first.id != second.id
    listed = Runs.for_spec(tmp_path / "project.yaml", "baselines").list("baseline")
    assert [run.id for run, _ in listed] == [first.id, second.id]  # oldest first
    assert all(status.state == "running" for _, status in listed)
