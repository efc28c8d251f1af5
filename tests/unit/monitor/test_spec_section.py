"""The spec's monitoring section: every key defaulted, and thresholds out of order are a located spec error."""

from __future__ import annotations

import pytest

from ftspec.errors import SpecError
from ftspec.spec.load import load_spec_text

BASE = ("ftspec: 1\nname: p\ndata: {format: prompt_completion, train: t.jsonl}\n"
        "models: [{name: m, hub: org/m, params: 1B}]\n")


@pytest.fixture(autouse=True)
def _train_file(tmp_path):
    (tmp_path / "t.jsonl").write_text('{"prompt": "a", "completion": "b"}\n', encoding="utf-8")


def test_a_spec_without_monitoring_has_every_default(tmp_path):
    monitoring = load_spec_text(BASE, tmp_path / "p.yaml").spec.monitoring
    assert monitoring.logs == [] and monitoring.window == "week" and monitoring.fields.prompt == "prompt"
    assert monitoring.watch.novelty < monitoring.refine_tune.novelty
    assert monitoring.watch.ks_pvalue > monitoring.refine_tune.ks_pvalue


def test_partial_thresholds_keep_the_other_defaults_and_one_log_is_a_list(tmp_path):
    text = BASE + "monitoring:\n  logs: prod.jsonl\n  window: day\n  refine_tune: {novelty: 0.5}\n"
    monitoring = load_spec_text(text, tmp_path / "p.yaml").spec.monitoring
    assert monitoring.logs == ["prod.jsonl"] and monitoring.window == "day"
    assert monitoring.refine_tune.novelty == 0.5 and monitoring.refine_tune.psi == 0.25


@pytest.mark.parametrize("section, message", [
    ("  watch: {novelty: 0.5}\n", "watch.novelty (0.5) comes after refine_tune.novelty (0.35)"),
    ("  watch: {ks_pvalue: 1.0e-9}\n", "watch.ks_pvalue (1e-09) comes after refine_tune.ks_pvalue (1e-06)"),
])
def test_watch_after_refine_tune_is_a_located_error(tmp_path, section, message):
    with pytest.raises(SpecError) as caught:
        load_spec_text(BASE + "monitoring:\n" + section, tmp_path / "p.yaml")
    problem = caught.value.problems[0]
    assert message in problem.message and problem.path == "monitoring"
    assert problem.location.line == 6  # where its mapping starts


def test_an_unknown_window_or_key_is_refused(tmp_path):
    with pytest.raises(SpecError) as caught:
        load_spec_text(BASE + "monitoring:\n  window: month\n  fieldz: {}\n", tmp_path / "p.yaml")
    paths = sorted(p.path for p in caught.value.problems)
    assert paths == ["monitoring.fieldz", "monitoring.window"]
