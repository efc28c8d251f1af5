"""The rows of `ftspec runs`, and the command's table and JSON through the CLI."""

from __future__ import annotations

import json
import sys

from ftspec.runtime.listing import NOT_EVALUATED, run_rows


def _train_rows(losses: list[float], max_steps: int) -> list[dict]:
    rows = [{"type": "start", "max_steps": max_steps}]
    rows += [{"type": "train", "step": 10 * (i + 1), "loss": loss, "time": float(i)} for i, loss in enumerate(losses)]
    return rows


def test_rows_hold_state_duration_steps_loss_and_verdict(tmp_path, write_run, write_log, dead_pid):
    done = write_run(tmp_path, "20240101-000000-aaaa", state="completed", started=100.0, ended=160.0)
    write_log(done, _train_rows([2.0, 1.5, 1.25], max_steps=30))
    (done / "report.json").write_text(json.dumps({"verdict": "pass"}))
    failed = write_run(tmp_path, "20240102-000000-bbbb", state="failed", started=200.0, ended=205.0)
    write_log(failed, _train_rows([3.0], max_steps=30))
    stale = write_run(tmp_path, "20240103-000000-cccc", state="running", started=300.0, pid=dead_pid)
    (stale / "report.json").write_text("{broken")
    (tmp_path / "20240104-000000-dddd").mkdir()  # claimed, then the process died before status.json
    (tmp_path / "scratch").mkdir()
    rows = {row["id"]: row for row in run_rows(tmp_path, now=400.0)}
    assert set(rows) == {"20240101-000000-aaaa", "20240102-000000-bbbb", "20240103-000000-cccc",
                         "20240104-000000-dddd"}
    first = rows["20240101-000000-aaaa"]
    assert (first["state"], first["duration"], first["steps"], first["max_steps"]) == ("completed", 60.0, 30, 30)
    assert (first["final_loss"], first["verdict"]) == (1.25, "pass")
    second = rows["20240102-000000-bbbb"]
    assert (second["state"], second["steps"], second["verdict"]) == ("failed", 10, NOT_EVALUATED)
    assert rows["20240103-000000-cccc"]["state"] == "interrupted"
    assert rows["20240103-000000-cccc"]["verdict"] == "unreadable report"
    assert rows["20240104-000000-dddd"]["state"] == "unknown"


def test_a_live_run_lasts_until_now(tmp_path, write_run):
    import os

    write_run(tmp_path, "20240101-000000-aaaa", state="running", started=100.0, pid=os.getpid())
    assert run_rows(tmp_path, now=130.0)[0]["duration"] == 30.0


def test_runs_command_through_the_cli(tmp_path, write_run, write_log, cli):
    spec = tmp_path / "project.yaml"
    spec.write_text("not even checked: a broken spec still lists its runs\n")
    run_dir = write_run(tmp_path / "runs", "20240101-000000-aaaa", state="completed", started=100.0, ended=190.0)
    write_log(run_dir, _train_rows([2.5, 0.75], max_steps=20))
    table = cli("runs", str(spec))
    assert table.returncode == 0, table.stderr
    line = next(line for line in table.stdout.splitlines() if "20240101-000000-aaaa" in line)
    assert "completed" in line and "1:30" in line and "20/20" in line and "0.75" in line and NOT_EVALUATED in line
    listed = json.loads(cli("runs", str(spec), "--json").stdout)
    assert [row["id"] for row in listed["runs"]] == ["20240101-000000-aaaa"]
    assert listed["runs"][0]["final_loss"] == 0.75


def test_runs_without_any_run_and_with_a_missing_spec(tmp_path, cli):
    spec = tmp_path / "project.yaml"
    spec.write_text("ftspec: 1\n")
    empty = cli("runs", str(spec))
    assert empty.returncode == 0 and "no runs" in empty.stdout
    missing = cli("runs", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    assert sys.executable  # the CLI ran under this interpreter
