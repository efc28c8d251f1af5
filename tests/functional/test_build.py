"""`ftspec build` through the CLI: where it writes, what it prints, --check, --json, refusals and atomic writes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ftspec.compiler.build import Build, write_atomically
from ftspec.errors import UsageError

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "specs" / "demo"
GENERATED = {"train.py", "eval.py", "accelerate.yaml", "prompt_format.json", "README.md", "decision.md",
             "decision.json", "manifest.json"}


@pytest.fixture
def project(tmp_path, tiny_model_dir) -> Path:
    """A copy of the demo project, its model linked in place."""
    root = tmp_path / "demo"
    shutil.copytree(DEMO / "data", root / "data")
    shutil.copy(DEMO / "project.yaml", root / "project.yaml")
    (root / "models").mkdir()
    (root / "models" / "tiny-llama").symlink_to(tiny_model_dir, target_is_directory=True)
    return root / "project.yaml"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_build_writes_beside_the_spec_and_prints_the_commands(cli, project):
    done = cli("build", str(project))
    assert done.returncode == 0, done.stderr
    build = project.parent / "build"
    assert {p.name for p in build.iterdir()} == GENERATED
    assert "python train.py --output-dir RUN_DIR" in done.stdout
    assert "python eval.py --output-dir RUN_DIR" in done.stdout
    for name in GENERATED:
        assert name in done.stdout
    manifest = json.loads((build / "manifest.json").read_text())
    assert manifest["spec"]["path"] == "../project.yaml"
    assert set(manifest["data"]) == {"data/train.jsonl", "data/eval.jsonl", "data/adversarial.jsonl"}
    assert "train.py.j2" in manifest["templates"] and manifest["libraries"]["torch"]
    assert manifest["files"]["train.py"] and "manifest.json" not in manifest["files"]


def test_same_inputs_give_byte_identical_builds(cli, project, tmp_path):
    assert cli("build", str(project)).returncode == 0
    first = snapshot(project.parent / "build")
    assert cli("build", str(project)).returncode == 0
    assert snapshot(project.parent / "build") == first
    moved = tmp_path / "elsewhere"
    shutil.copytree(project.parent, moved, symlinks=True, ignore=shutil.ignore_patterns("build"))
    assert cli("build", str(moved / "project.yaml")).returncode == 0
    assert snapshot(moved / "build") == first  # nothing depends on where the project lives


def test_out_and_json(cli, project, tmp_path):
    out = tmp_path / "somewhere" / "b"
    done = cli("build", str(project), "--out", str(out), "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["build"] == str(out) and document["commands"]["train"].startswith("python train.py")
    assert document["manifest"] == json.loads((out / "manifest.json").read_text())
    assert not (project.parent / "build").exists()


def test_check_is_fresh_then_stale_and_writes_nothing(cli, project):
    build = project.parent / "build"
    assert cli("build", str(project), "--check").returncode == 1  # no build yet
    assert not build.exists()
    assert cli("build", str(project)).returncode == 0
    done = cli("build", str(project), "--check")
    assert done.returncode == 0 and "up to date" in done.stdout
    with (project.parent / "data" / "train.jsonl").open("a") as handle:
        handle.write(json.dumps({"prompt": "one more red mug", "completion": "{}"}) + "\n")
    before = snapshot(build)
    done = cli("build", str(project), "--check", "--json")
    assert done.returncode == 1
    assert json.loads(done.stdout)["reasons"] == ["data changed: data/train.jsonl"]
    assert snapshot(build) == before


def test_a_hand_edited_script_is_kept_when_rebuilding(cli, project):
    assert cli("build", str(project)).returncode == 0
    script = project.parent / "build" / "train.py"
    script.write_text(script.read_text() + "# my tweak\n")
    done = cli("build", str(project), "--check")
    assert done.returncode == 1 and "train.py was edited" in done.stdout
    assert cli("build", str(project)).returncode == 0
    assert (project.parent / "build" / "train.py.edited").read_text().endswith("# my tweak\n")
    assert not script.read_text().endswith("# my tweak\n")


def test_blocked_plan_refuses_unless_forced(cli, project):
    text = project.read_text()
    project.write_text(text.replace("  objective: Extract item, colour and quantity from customer order messages "
                                    "as strict JSON.\n", ""))
    assert "objective" not in project.read_text()
    done = cli("build", str(project))
    assert done.returncode == 2 and "objective" in done.stderr and "--force" in done.stderr
    assert not (project.parent / "build").exists()
    done = cli("build", str(project), "--force")
    assert done.returncode == 0, done.stderr
    decision = json.loads((project.parent / "build" / "decision.json").read_text())
    assert decision["decision"]["forced"] is True
    assert "forced" in (project.parent / "build" / "decision.md").read_text().lower()
    assert "forced" in done.stdout


def test_refuses_to_replace_a_folder_that_is_not_a_build(cli, project, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    done = cli("build", str(project), "--out", str(mine))
    assert done.returncode == 2 and "not overwriting" in done.stderr
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


def test_an_interrupted_write_keeps_the_old_build(tmp_path):
    folder = tmp_path / "build"
    good = Build(folder, {"train.py": "old\n", "manifest.json": json.dumps({"ftspec_build": 1, "files": {}})},
                 {"files": {}})
    write_atomically(good)
    broken = Build(folder, {"train.py": "new\n", "missing/dir/eval.py": "x"}, {"files": {}})
    with pytest.raises(OSError):
        write_atomically(broken)
    assert (folder / "train.py").read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["build"]  # no temporary folder left behind


def test_a_file_is_not_a_build_folder(tmp_path):
    target = tmp_path / "build"
    target.write_text("a file")
    with pytest.raises(UsageError):
        write_atomically(Build(target, {"train.py": ""}, {"files": {}}))


def test_build_imports_no_training_stack(project, tmp_path):
    code = ("import sys; from ftspec.commands.build import build_command; "
            f"build_command({str(project)!r}, out=__import__('pathlib').Path({str(tmp_path / 'b')!r})); "
            "heavy = [m for m in ('torch', 'transformers', 'peft', 'trl', 'datasets', 'accelerate') "
            "if m in sys.modules]; print(heavy); sys.exit(1 if heavy else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
