"""`ftspec run` when a script fails, and with scripts edited by hand: exit 3 with the log's tail, a failed run
that resumes in place, and a stale build whose hand edits are never overwritten."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.functional.test_run_e2e import ENV, only_run, small_project

BOOM = 'import sys\nsys.exit("boom: my hand edit broke it")\n'


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ftspec", *args], env={**os.environ, **ENV}, capture_output=True,
                          text=True, timeout=300)


def _built_project(tmp_path: Path, model_dir: Path) -> tuple[Path, Path]:
    spec = small_project(tmp_path, model_dir, epochs=1, batch_size=8)
    built = _cli("build", str(spec))
    assert built.returncode == 0, built.stderr
    return spec, tmp_path / "build"


def test_a_failing_script_exits_3_with_its_log_and_resumes_in_place(tmp_path, tiny_model_dir):
    spec, build = _built_project(tmp_path, tiny_model_dir)
    original = (build / "train.py").read_text()
    (build / "train.py").write_text(BOOM + original)
    result = _cli("run", str(spec))
    run_dir = only_run(spec)
    log = run_dir / "logs" / "train.log"
    assert result.returncode == 3
    assert "train.py as edited by hand" in result.stdout
    assert "boom: my hand edit broke it" in result.stderr and str(log) in result.stderr
    assert f"--resume {run_dir.name}" in result.stdout
    status = json.loads((run_dir / "status.json").read_text())
    assert (status["state"], status["stage"], status["returncode"]) == ("failed", "train", 1)
    assert (build / "train.py").read_text() == BOOM + original  # the edit survives the run

    again = _cli("run", str(spec), "--resume", "last", "--json")
    assert again.returncode == 3
    report = json.loads(again.stdout)
    assert (report["run_id"], report["state"], report["attempts"]) == (run_dir.name, "failed", 2)
    assert log.read_text().count("boom: my hand edit broke it") == 2  # both attempts, one log


def test_a_stale_build_with_hand_edits_is_not_rebuilt_over_them(tmp_path, tiny_model_dir):
    spec, build = _built_project(tmp_path, tiny_model_dir)
    edited = (build / "train.py").read_text() + "# my tweak\n"
    (build / "train.py").write_text(edited)
    text = spec.read_text()
    assert "Turn web-shop" in text
    spec.write_text(text.replace("Turn web-shop", "Convert web-shop"))  # the spec changed since the build
    result = _cli("run", str(spec))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "edited by hand" in result.stderr and "ftspec build" in result.stderr
    assert (build / "train.py").read_text() == edited
    assert not (tmp_path / "runs").exists()
