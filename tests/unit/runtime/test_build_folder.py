"""How the runtime reads a build folder: processes per run, the launch command, and hand-edited scripts."""

from __future__ import annotations

import hashlib
import json
import sys

import pytest

from ftspec.errors import UsageError
from ftspec.runtime.buildstep import edited_files, num_processes, require_build, script_argv


def _manifest(folder, **fields):
    (folder / "manifest.json").write_text(json.dumps(fields))


@pytest.mark.parametrize("manifest, accelerate, expected", [
    ({"distributed": {"mode": "ddp", "num_processes": 4}}, None, 4),
    ({"plan": {"distributed": {"num_processes": 2}}}, None, 2),
    ({}, "distributed_type: MULTI_CPU\nnum_processes: 3\n", 3),
    ({}, "num_processes: lots\n", 1),
    ({}, ": not yaml : [", 1),
    ({}, None, 1),
])
def test_num_processes(tmp_path, manifest, accelerate, expected):
    _manifest(tmp_path, **manifest)
    if accelerate is not None:
        (tmp_path / "accelerate.yaml").write_text(accelerate)
    assert num_processes(tmp_path) == expected


def test_one_process_runs_python_and_several_run_accelerate_launch(tmp_path):
    _manifest(tmp_path, distributed={"num_processes": 1})
    assert script_argv(tmp_path, "train.py", ["--output-dir", "R"]) == [sys.executable, "train.py", "--output-dir", "R"]
    _manifest(tmp_path, distributed={"num_processes": 2})
    argv = script_argv(tmp_path, "train.py", ["--output-dir", "R", "--resume"])
    assert argv[1:] == ["-m", "accelerate.commands.launch", "--config_file", "accelerate.yaml", "train.py",
                        "--output-dir", "R", "--resume"]
    assert script_argv(tmp_path, "eval.py", ["--output-dir", "R"])[1] == "eval.py"  # eval.py is one process


def test_edited_files_are_those_whose_hash_changed(tmp_path):
    texts = {"train.py": "print('train')\n", "eval.py": "print('eval')\n", "README.md": "gone\n"}
    _manifest(tmp_path, files={n: hashlib.sha256(t.encode()).hexdigest() for n, t in texts.items()})
    (tmp_path / "train.py").write_text(texts["train.py"] + "# my tweak\n")
    (tmp_path / "eval.py").write_text(texts["eval.py"])
    assert edited_files(tmp_path) == ["train.py"]  # a missing file is a stale build, not an edit


def test_a_build_without_its_scripts_is_a_usage_error(tmp_path):
    (tmp_path / "train.py").write_text("")
    with pytest.raises(UsageError, match="eval.py, manifest.json") as info:
        require_build(tmp_path)
    assert "ftspec build" in info.value.hint
