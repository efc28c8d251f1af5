"""A run's eval reuses the ladder: after `ftspec baseline`, `ftspec run` generates only the fine-tuned model and
the base model's rows are the baseline's own predictions; once the data changes, the stale measurement is not used
and eval.py generates the base model again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.functional.test_baseline_e2e import demo_copy, ok


def rows_of(path: Path, model: str) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if json.loads(line)["model"] == model]


def short_training(project: Path) -> None:
    spec = project / "project.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("epochs: 30", "epochs: 1"), encoding="utf-8")


@pytest.mark.slow
def test_eval_scores_the_base_model_from_the_baseline_and_never_from_a_stale_one(tmp_path: Path,
                                                                                demo_model_dir: Path):
    project = demo_copy(tmp_path, max_examples=6)
    short_training(project)
    record = json.loads(ok(run_cli("baseline", "project.yaml", "--json", cwd=project)).stdout)["baselines"][0]
    baseline = project / record["folder"]
    status = json.loads((baseline / "status.json").read_text(encoding="utf-8"))  # a run folder of kind baseline
    assert (status["kind"], status["state"]) == ("baseline", "completed")
    ladder = json.loads(run_cli("check", "project.yaml", "--json", cwd=project).stdout)["decision"]["ladder"]
    assert [(row["rung"], row["source"], row["baseline"]) for row in ladder] == [
        (rung, "measured", record["id"]) for rung in record["rungs"]]
    assert all(gate["ci"] is not None for row in ladder for gate in row["gates"])

    ran = json.loads(ok(run_cli("run", "project.yaml", "--json", cwd=project)).stdout)
    run_dir = Path(ran["run_dir"])
    predictions = run_dir / "predictions.jsonl"
    for model, rung in (("base_zero_shot", "zero_shot"), ("base_few_shot", "few_shot")):
        assert rows_of(predictions, model) == (baseline / rung / "predictions.jsonl").read_text(
            encoding="utf-8").splitlines()
    log = (run_dir / "logs" / "eval.log").read_text(encoding="utf-8")
    assert "finetuned / all" in log and "base_zero_shot / all" not in log  # eval.py generated the fine-tune only
    assert f"predictions from baseline {record['id']}, not regenerated" in log
    report = json.loads(run_cli("eval", "project.yaml", "--json", cwd=project).stdout)
    assert report["base_sources"] == {"base_zero_shot": f"from baseline {record['id']} (zero_shot rung)",
                                      "base_few_shot": f"from baseline {record['id']} (few_shot rung)"}
    assert f"from baseline {record['id']}" in (run_dir / "report.md").read_text(encoding="utf-8")
    assert any(g["vs_baseline"] == "base_few_shot" and g["baseline_value"] is not None for g in report["gates"])

    with open(project / "data" / "train.jsonl", "a", encoding="utf-8") as handle:  # the measurement goes stale
        handle.write(json.dumps({"prompt": "One red mug please.", "completion": '{"item": "mug"}'}) + "\n")
    again = Path(json.loads(ok(run_cli("run", "project.yaml", "--force", "--json", cwd=project)).stdout)["run_dir"])
    assert "base_zero_shot / all" in (again / "logs" / "eval.log").read_text(encoding="utf-8")
    assert not (again / "base_sources.json").exists()
    stale = json.loads(run_cli("eval", "project.yaml", "--json", cwd=project).stdout)
    generated = "generated in this run"
    assert stale["base_sources"] == {"base_zero_shot": generated, "base_few_shot": generated}
