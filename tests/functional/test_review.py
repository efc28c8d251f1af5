"""`ftspec review`: a Label Studio round trip on crafted runs (export accepted by label-studio-sdk's parser, a
Label Studio JSON export imported and gated), located import errors, agreement against the krippendorff library,
a human_win_rate gate that fails when annotators prefer the base, and preferences -> a `preference` dataset."""

from __future__ import annotations

import csv
import json

import krippendorff
import numpy as np
import pytest
from label_studio_sdk.label_interface import LabelInterface
from scipy.stats import spearmanr

from tests.functional.eval_helpers import rows, write_project, write_run
from tests.invoke import invoke

RUN_A = "20250101-120000-aaaa"
RUN_B = "20250102-120000-bbbb"
RUBRIC = [{"name": "accuracy", "scale": "1-5"}, {"name": "tone", "scale": "pass_fail"}]


def _project(tmp_path, metrics, review=None):
    spec = write_project(tmp_path, [{"name": "exact_match", "threshold": ">= 0.1"}, *metrics],
                         slices=("adversarial",))
    data = json.loads(spec.read_text())
    data["review"] = review or {"rubric": RUBRIC, "annotators_per_task": 2, "sample": 12, "seed": 7}
    spec.write_text(json.dumps(data, indent=2))
    both = [(f"ref{i}", f"ref{i}" if i % 3 else "wrong") for i in range(20)]
    adversarial = [(f"adv{i}", f"adv{i}") for i in range(5)]
    write_run(tmp_path, rows("finetuned", both, "all") + rows("finetuned", adversarial, "adversarial"), run_id=RUN_A)
    better = [(ref, ref) for ref, _ in both]
    write_run(tmp_path, rows("finetuned", better, "all") + rows("finetuned", adversarial, "adversarial")
              + rows("base_zero_shot", both, "all"), run_id=RUN_B)
    return spec


def _export(spec, out, *extra, run=RUN_B):
    result = invoke(["review", "export", run, "--spec", spec, "--out", out, "--json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _annotation(who: int, answers: dict) -> dict:
    result = []
    for name, value in answers.items():
        kind, payload = ("rating", {"rating": value}) if isinstance(value, int) else ("choices", {"choices": [value]})
        to_name = "prompt" if name == "preference" else "output"
        result.append({"from_name": name, "to_name": to_name, "type": kind, "value": payload})
    return {"id": who, "completed_by": who, "result": result, "was_cancelled": False, "ground_truth": False}


def _varied_rating(task: dict, who: int) -> dict:
    """Annotator `who`'s answer to a rating task: accuracy 1-5 and tone pass/fail, varying by row and annotator (the
    annotators agree in pairs), so agreement is neither perfect nor absent."""
    n = int(task["data"]["row"].rsplit("-", 1)[1])
    return {"accuracy": 1 + (n + who // 2) % 5, "tone": "pass" if (n + who) % 4 else "fail"}


def _label_studio_export(tasks: list[dict], answer) -> list[dict]:
    """Label Studio's JSON export format: each task with its id, data and annotations (one per annotator)."""
    return [{"id": i + 1, "data": task["data"], "annotations": [_annotation(who, answer(task, who)) for who in (1, 2)]}
            for i, task in enumerate(tasks)]


def test_export_is_a_label_studio_project_with_every_slice_and_changed_rows_first(tmp_path):
    spec = _project(tmp_path, [])
    found = _export(spec, tmp_path / "out", "--against", RUN_A)
    out = tmp_path / "out"
    for kind in ("rating", "pairwise"):
        config = (out / f"{kind}_config.xml").read_text()
        parsed = LabelInterface(config)
        parsed.validate()
        tasks = json.loads((out / f"{kind}_tasks.json").read_text())
        assert len(tasks) == found["rows"] == 12 and all(parsed.validate_task(t) for t in tasks)
        assert found[f"{kind}_checked_by_sdk"] == 12
        with open(out / f"{kind}.csv", newline="") as handle:
            assert len(list(csv.DictReader(handle))) == 12 * 2  # one line per annotator
    rating = json.loads((out / "rating_tasks.json").read_text())
    assert {t["data"]["slice"] for t in rating} == {"all", "adversarial"}
    changed = [f"all/all-{i}" for i in range(20) if i % 3 == 0]  # the rows run A got wrong and B right
    assert found["changed_first"] == len(changed)
    assert [t["data"]["row"] for t in rating][:len(changed)] == changed
    pairwise = json.loads((out / "pairwise_tasks.json").read_text())
    assert all(RUN_A not in json.dumps(t) and "this_side" not in json.dumps(t) for t in pairwise)  # blind
    sides = json.loads((out / "sides.json").read_text())
    assert {p["this_side"] for p in sides["pairs"].values()} == {"left", "right"}
    assert _export(spec, tmp_path / "again", "--against", RUN_A)["rows"] == 12
    assert (tmp_path / "again" / "sides.json").read_text() == (out / "sides.json").read_text()  # seeded


def test_a_label_studio_export_is_imported_gated_and_its_agreement_is_the_librarys(tmp_path):
    metrics = [{"name": "human_rating", "criterion": "accuracy", "threshold": ">= 3"},
               {"name": "human_pass_rate", "criterion": "tone", "threshold": ">= 0.5"}]
    spec = _project(tmp_path, metrics, {"rubric": RUBRIC, "annotators_per_task": 2, "sample": 12, "seed": 7,
                                        "min_agreement": 0.1})
    _export(spec, tmp_path / "out", run=RUN_A)  # run A's exact_match varies from row to row
    tasks = json.loads((tmp_path / "out" / "rating_tasks.json").read_text())

    exported = tmp_path / "label_studio_export.json"
    exported.write_text(json.dumps(_label_studio_export(tasks, _varied_rating)))
    result = invoke(["review", "import", exported, "--spec", spec, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ratings"] == 12 * 2 * 2
    result = invoke(["eval", spec, "--run", RUN_A, "--json"])
    report = json.loads((tmp_path / "runs" / RUN_A / "report.json").read_text())
    gates = {g["label"]: g for g in report["gates"]}
    accuracy = [[_varied_rating(t, who)["accuracy"] for t in tasks] for who in (1, 2)]
    in_all = [i for i, t in enumerate(tasks) if t["data"]["slice"] == "all"]  # the gate's slice
    assert gates["human_rating(accuracy)"]["value"] == pytest.approx(np.mean([row[i] for row in accuracy
                                                                              for i in in_all]))
    assert gates["human_rating(accuracy)"]["problems"] == []  # unreviewed rows are no missing rows
    expected = krippendorff.alpha(reliability_data=np.array(accuracy, float), level_of_measurement="ordinal")
    assert report["human"]["agreement"]["accuracy"]["alpha"] == pytest.approx(expected)
    tone = [[float(_varied_rating(t, who)["tone"] == "pass") for t in tasks] for who in (1, 2)]
    expected = krippendorff.alpha(reliability_data=np.array(tone), level_of_measurement="nominal")
    assert report["human"]["agreement"]["tone"]["alpha"] == pytest.approx(expected)
    [pair] = [c for c in report["human"]["correlation"] if c["human"] == "human_rating(accuracy)"]
    auto = [float(tasks[i]["data"]["output"] != "wrong") for i in in_all]
    assert pair["n"] == len(in_all)
    assert pair["rho"] == pytest.approx(spearmanr(auto, [np.mean([row[i] for row in accuracy])
                                                         for i in in_all]).statistic)
    assert (result.exit_code == 0) == (report["verdict"] == "pass")


def test_bad_annotations_are_located_and_nothing_is_stored(tmp_path):
    spec = _project(tmp_path, [])
    _export(spec, tmp_path / "out")
    tasks = json.loads((tmp_path / "out" / "rating_tasks.json").read_text())
    export = _label_studio_export(tasks[:3], lambda task, who: {"accuracy": 4, "tone": "pass"})
    export[0]["annotations"][1]["result"] = export[0]["annotations"][1]["result"][1:]  # no accuracy
    export[1]["annotations"][0]["result"][0]["value"]["rating"] = 9  # off the 1-5 scale
    export[2]["data"]["row"] = "all/no-such-row"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(export))
    result = invoke(["review", "import", bad, "--spec", spec])
    assert result.exit_code == 2
    assert f"{bad}:0: 2 gave no rating for `accuracy`" in result.output
    assert f"{bad}:1: 1 rated `accuracy` 9, outside the scale (a whole number from 1 to 5)" in result.output
    assert f"{bad}:2: unknown task: row `all/no-such-row`" in result.output
    assert not (tmp_path / "runs" / RUN_B / "reviews" / "ratings.jsonl").exists()


def _pairwise(tmp_path, prefer_this: bool):
    spec = _project(tmp_path, [{"name": "human_win_rate", "threshold": ">= 0.5"}])
    _export(spec, tmp_path / "out", "--against", "base_zero_shot")
    sides = json.loads((tmp_path / "out" / "sides.json").read_text())["pairs"]
    tasks = json.loads((tmp_path / "out" / "pairwise_tasks.json").read_text())

    def answer(task, who):
        this = sides[task["data"]["pair"]]["this_side"]
        other = "left" if this == "right" else "right"
        return {"preference": "tie" if who == 2 and task is tasks[0] else (this if prefer_this else other)}

    exported = tmp_path / "pairs.json"
    exported.write_text(json.dumps(_label_studio_export(tasks, answer)))
    assert invoke(["review", "import", exported, "--spec", spec]).exit_code == 0
    return spec


def test_a_win_rate_gate_fails_with_exit_1_when_annotators_prefer_the_base(tmp_path):
    spec = _pairwise(tmp_path, prefer_this=False)
    result = invoke(["eval", spec, "--run", RUN_B, "--json"])
    assert result.exit_code == 1, result.output
    gate = next(g for g in json.loads(result.stdout)["gates"] if g["metric"] == "human_win_rate")
    assert gate["value"] == 0.0 and not gate["passed"]
    assert "1 ties counted apart" in gate["method"]


def test_preferences_become_an_audited_preference_dataset(tmp_path):
    spec = _pairwise(tmp_path, prefer_this=True)
    assert invoke(["eval", spec, "--run", RUN_B]).exit_code == 0
    out = tmp_path / "prefs.jsonl"
    result = invoke(["review", "preferences", RUN_B, "--spec", spec, "--out", out, "--json"])
    assert result.exit_code == 0, result.output
    pairs = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(pairs) == 12 and all(set(p) == {"id", "prompt", "chosen", "rejected"} for p in pairs)
    finetuned = {f"all/{r['id']}": r["prediction"] for r in rows("finetuned", [(f"ref{i}", f"ref{i}")
                                                                                for i in range(20)])}
    assert all(p["chosen"] == finetuned.get(p["id"], p["chosen"]) for p in pairs)
    data = json.loads(spec.read_text())
    data["data"] = {"format": "preference", "train": str(out)}
    data["metrics"] = []
    data["method"] = "dpo"
    data["data"]["quality"] = {"min_examples": 5}
    spec.write_text(json.dumps(data))
    audit = invoke(["data", "audit", spec, "--json"])
    assert audit.exit_code == 0, audit.output
    findings = {f["check"]: f["count"] for f in json.loads(audit.stdout)["audit"]["findings"]}
    assert findings["schema_error"] == findings["empty_field"] == 0


def test_report_md_and_html_show_the_human_section(tmp_path):
    """After `ftspec review import`, report.md and report.html show the human metrics with their CIs, the
    annotators' agreement (Krippendorff's alpha) and each automatic metric's agreement with the human one."""
    from html.parser import HTMLParser

    from ftspec.evals.gates import fmt

    metrics = [{"name": "human_rating", "criterion": "accuracy", "threshold": ">= 3"}]
    spec = _project(tmp_path, metrics)
    _export(spec, tmp_path / "out", run=RUN_A)
    tasks = json.loads((tmp_path / "out" / "rating_tasks.json").read_text())

    exported = tmp_path / "label_studio_export.json"
    exported.write_text(json.dumps(_label_studio_export(tasks, _varied_rating)))
    assert invoke(["review", "import", exported, "--spec", spec]).exit_code == 0
    invoke(["eval", spec, "--run", RUN_A])
    run_dir = tmp_path / "runs" / RUN_A
    report = json.loads((run_dir / "report.json").read_text())
    gate = next(g for g in report["gates"] if g["label"] == "human_rating(accuracy)")
    alpha = {name: f"{e['alpha']:.3f}" for name, e in report["human"]["agreement"].items()}
    [pair] = report["human"]["correlation"]
    markdown = (run_dir / "report.md").read_text()
    section = markdown[markdown.index("**Human review**"):markdown.index("**Loss curves:**")]
    assert "48 ratings and 0 pairwise judgements imported" in section
    assert f"| human_rating(accuracy) | all | {fmt(gate['value'])} | [{fmt(gate['value_ci'][0])}, " \
           f"{fmt(gate['value_ci'][1])}] | >= 3 | {gate['n']} |" in section
    assert f"| accuracy | ordinal | 2 | 12 of 12 | {alpha['accuracy']} | not gated |" in section
    assert f"| tone | nominal | 2 | 12 of 12 | {alpha['tone']} | not gated |" in section
    assert f"| exact_match | human_rating(accuracy) | {pair['n']} | {pair['rho']:.3f} |" in section

    class Tables(HTMLParser):
        """The text of every cell, by the id of its table."""

        def __init__(self):
            super().__init__()
            self.table, self.cells = None, {}

        def handle_starttag(self, tag, attrs):
            if tag == "table":
                self.table = dict(attrs).get("id")
                self.cells[self.table] = []

        def handle_data(self, data):
            if self.table and data.strip():
                self.cells[self.table].append(data.strip())

    html = Tables()
    html.feed((run_dir / "report.html").read_text())
    assert ["human_rating(accuracy)", "all", fmt(gate["value"])] == html.cells["human-metrics"][7:10]
    assert ["accuracy", "ordinal", "2", "12 of 12", alpha["accuracy"]] == html.cells["human-agreement"][6:11]
    assert ["exact_match", "human_rating(accuracy)", str(pair["n"]), f"{pair['rho']:.3f}"] == \
        html.cells["human-correlation"][5:9]
