"""The judge: thresholds from the spec (or defaults), small windows not judged, a quality drop counted only when the
window's CI excludes the first window's value, the overall verdict from the latest windows."""

from __future__ import annotations

import pytest

from ftspec.monitor.verdict import Judge, overall
from ftspec.spec.load import load_spec_text

SPEC = ("ftspec: 1\nname: p\ndata: {format: prompt_completion, train: t.jsonl}\n"
        "models: [{name: m, hub: org/m, params: 1B}]\nmonitoring:\n  watch: {novelty: 0.15}\n")


@pytest.fixture
def judge(tmp_path):
    (tmp_path / "t.jsonl").write_text('{"prompt": "a", "completion": "b"}\n', encoding="utf-8")
    return Judge(load_spec_text(SPEC, tmp_path / "p.yaml"), [])


def window(rows=100, novelty=0.0, psi=0.0, pvalue=0.5, feedback=None) -> dict:
    metrics = {} if feedback is None else {"feedback": feedback}
    return {"rows": rows, "output_failure": None, "metrics": metrics,
            "drift": {"novelty": novelty, "oov": 0.0, "psi": {"prompt_chars": psi},
                      "ks": {"prompt_chars": {"statistic": 0.1, "pvalue": pvalue}}}}


def test_a_threshold_the_spec_writes_is_located_and_a_default_says_so(judge):
    verdict, reasons = judge.window(window(novelty=0.16))
    assert verdict == "watch"
    where = f"{judge.loaded.path}:6:20"
    assert (reasons[0]["spec_path"], reasons[0]["location"]) == ("monitoring.watch.novelty", where)
    verdict, reasons = judge.window(window(novelty=0.4))
    assert verdict == "refine_tune" and reasons[0]["location"] == "default"


def test_a_small_window_is_not_judged(judge):
    assert judge.window(window(rows=29, novelty=0.9)) == ("ok", [])


def test_a_length_shift_needs_psi_and_ks_to_agree_for_refine_tune(judge):
    assert judge.window(window(psi=0.5, pvalue=0.01))[0] == "watch"  # large PSI, weak evidence: few rows
    assert judge.window(window(psi=0.5, pvalue=1e-9))[0] == "refine_tune"
    verdict, reasons = judge.window(window(psi=0.01, pvalue=1e-9))  # significant but tiny: watch
    assert verdict == "watch" and reasons[0]["check"] == "ks_pvalue"


def test_a_quality_drop_counts_only_when_the_ci_excludes_the_first_value(judge):
    assert judge.window(window(feedback={"n": 100, "value": 0.9, "ci": [0.84, 0.95]}))[0] == "ok"
    noisy = {"n": 100, "value": 0.78, "ci": [0.6, 0.91]}  # a drop of 0.12, but the CI holds 0.9
    assert judge.window(window(feedback=noisy))[0] == "ok" and noisy["drop"] == pytest.approx(0.12)
    verdict, reasons = judge.window(window(feedback={"n": 100, "value": 0.7, "ci": [0.61, 0.79]}))
    assert verdict == "refine_tune" and reasons[0]["check"] == "quality_drop"
    assert reasons[0]["value"] == pytest.approx(0.2)


def test_overall_is_the_worst_of_the_latest_judged_windows():
    def judged(label, verdict, judged=True):
        reasons = [] if verdict == "ok" else [{"level": verdict, "check": "novelty", "subject": "novelty",
                                               "text": "x", "spec_path": "p", "location": "default"}]
        return {"label": label, "verdict": verdict, "judged": judged, "reasons": reasons}

    windows = [judged("W1", "refine_tune"), judged("W2", "ok"), judged("W3", "watch"), judged("W4", "ok", False)]
    verdict, reasons = overall(windows, 2)
    assert verdict == "watch" and reasons[0]["windows"] == ["W3"]
    assert overall(windows, 3)[0] == "refine_tune"
