"""Every file and folder ftspec writes gets the mode the umask gives, like any other tool's output (issue 12):
mkstemp and mkdtemp make them 0600 and 0700, which left build/, status.json and the reports private."""

from __future__ import annotations

import os
import stat
from contextlib import contextmanager

from ftspec.fsutil import atomic_write_text, swap_in_folder
from tests.invoke import invoke
from tests.unit.compiler.test_decide_matrix import BASE, dump, merge


@contextmanager
def umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_build_folder_and_its_files_follow_the_umask(tmp_path):
    import json

    spec = merge(BASE, {"requirements": {"needs": ["strict_format"], "tried": [
        {"approach": "few_shot_prompting", "scores": {"exact_match": 0.2}}]}})
    for name in ("train.jsonl", "eval.jsonl"):
        (tmp_path / name).write_text("".join(json.dumps({"prompt": f"q {name} {i}", "completion": f"a {i}"}) + "\n"
                                             for i in range(60)))
    (tmp_path / "project.yaml").write_text(dump(spec))
    for mask, folder_mode, file_mode in ((0o022, 0o755, 0o644), (0o027, 0o750, 0o640)):
        with umask(mask):
            assert invoke(["build", tmp_path / "project.yaml"]).exit_code == 0
        build = tmp_path / "build"
        assert mode(build) == folder_mode
        files = [p for p in build.iterdir() if p.is_file()]
        assert files and {p.name: mode(p) for p in files} == {p.name: file_mode for p in files}


def test_atomic_writes_follow_the_umask(tmp_path):
    """status.json, report.{json,md,html} and junit.xml are written by atomic_write_text."""
    from ftspec.runtime.status import STATUS_FILE

    with umask(0o022):
        for name in (STATUS_FILE, "report.json", "report.md", "report.html", "junit.xml"):
            atomic_write_text(tmp_path / "runs" / name, "{}\n")
            assert mode(tmp_path / "runs" / name) == 0o644, name
    with umask(0o077):
        atomic_write_text(tmp_path / "private.json", "{}\n")
    assert mode(tmp_path / "private.json") == 0o600


def test_a_swapped_in_folder_follows_the_umask(tmp_path):
    import tempfile
    from pathlib import Path

    with umask(0o022):
        staging = Path(tempfile.mkdtemp(dir=tmp_path))
        swap_in_folder(staging, tmp_path / "out")
    assert mode(tmp_path / "out") == 0o755


def test_eval_reports_and_status_follow_the_umask(tmp_path):
    from ftspec.runtime.status import STATUS_FILE, RunStatus, write_status
    from tests.functional.eval_helpers import rows, write_project, write_run

    spec = write_project(tmp_path, [{"name": "exact_match", "threshold": ">= 0.5"}])
    pairs = [("4", "4")] * 3
    run = write_run(tmp_path, rows("finetuned", pairs) + rows("base_zero_shot", pairs) + rows("base_few_shot", pairs))
    with umask(0o022):
        invoke(["eval", spec])
        write_status(run, RunStatus(id=run.name))
    written = {name: mode(run / name) for name in ("report.json", "report.md", "report.html", "junit.xml",
                                                   STATUS_FILE)}
    assert written == dict.fromkeys(written, 0o644)

