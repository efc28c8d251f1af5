"""`ftspec ab`: p-values and intervals against scipy/statsmodels on fixed logs, clustering, power, peeking, errors."""

from __future__ import annotations

import csv
import json
import random

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize, proportions_ztest

from tests.invoke import invoke


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _binary_log(path, successes_a, n_a, successes_b, n_b, users=None):
    rows = [{"variant": "A", "outcome": i < successes_a} for i in range(n_a)]
    rows += [{"variant": "B", "outcome": i < successes_b} for i in range(n_b)]
    if users:
        for i, row in enumerate(rows):
            row["user_id"] = f"{row['variant']}{i % users}"
    return _write_jsonl(path, rows)


def _ab(*args):
    result = invoke(["ab", *args, "--json"])
    return result, json.loads(result.stdout) if result.stdout.strip() else None


def test_two_proportions_match_statsmodels_and_b_better_exits_0(tmp_path):
    log = _binary_log(tmp_path / "ab.jsonl", 200, 1000, 260, 1000)
    result, found = _ab(log)
    assert result.exit_code == 0, result.output
    z, p = proportions_ztest([260, 200], [1000, 1000])
    assert found["p_value"] == pytest.approx(p, rel=1e-12) and found["statistic"] == pytest.approx(z)
    assert found["difference"] == pytest.approx(0.06) and found["verdict"] == "B better"
    assert found["clustered"] is False and found["kind"] == "binary"


def test_b_worse_exits_1_and_no_difference_exits_0(tmp_path):
    worse, _ = _ab(_binary_log(tmp_path / "worse.jsonl", 300, 1000, 200, 1000))
    assert worse.exit_code == 1 and json.loads(worse.stdout)["verdict"] == "B worse"
    same, found = _ab(_binary_log(tmp_path / "same.jsonl", 200, 1000, 205, 1000))
    assert same.exit_code == 0 and found["verdict"] == "no detectable difference"


def test_continuous_outcomes_use_welch_and_mann_whitney_from_scipy(tmp_path):
    rng = np.random.default_rng(0)
    a, b = rng.normal(100, 20, 500), rng.normal(95, 25, 400)
    path = tmp_path / "latency.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["variant", "latency_ms"])
        writer.writerows([("A", repr(float(x))) for x in a] + [("B", repr(float(x))) for x in b])
    result, found = _ab(path, "--metric", "latency_ms")
    welch = stats.ttest_ind(b, a, equal_var=False)
    assert found["p_value"] == pytest.approx(welch.pvalue, rel=1e-9)
    assert found["mann_whitney_p"] == pytest.approx(stats.mannwhitneyu(b, a).pvalue, rel=1e-9)
    assert found["lower_is_better"] and found["verdict"] == "B better" and result.exit_code == 0


def test_repeated_users_are_clustered_and_widen_the_interval(tmp_path):
    rng = random.Random(0)
    rows = []
    for user in range(300):  # each user has a propensity of their own: rows of one user agree
        variant = "A" if user % 2 else "B"
        rate = rng.choice([0.05, 0.6]) + (0.04 if variant == "B" else 0.0)
        rows += [{"variant": variant, "outcome": rng.random() < rate, "user_id": f"u{user}"} for _ in range(10)]
    result, found = _ab(_write_jsonl(tmp_path / "ab.jsonl", rows))
    assert found["clustered"] and "clustered" in found["test"]
    assert found["variants"][0]["users"] == 150 and found["power"]["design_effect"] > 2
    rows_only, naive = _ab(_write_jsonl(tmp_path / "rows.jsonl", [{k: v for k, v in r.items() if k != "user_id"}
                                                                  for r in rows]))
    width = found["difference_ci"][1] - found["difference_ci"][0]
    assert width > 1.4 * (naive["difference_ci"][1] - naive["difference_ci"][0])


def test_plan_matches_statsmodels(tmp_path):
    result, found = _ab("--plan", "--baseline-rate", "0.1", "--effect", "0.02", "--power", "0.9")
    h = proportion_effectsize(0.12, 0.1)
    expected = NormalIndPower().solve_power(effect_size=h, alpha=0.05, power=0.9, ratio=1.0)
    assert result.exit_code == 0 and found["samples_per_variant"] == int(np.ceil(expected))


def test_power_says_how_many_more_rows_an_effect_needs(tmp_path):
    result, found = _ab(_binary_log(tmp_path / "ab.jsonl", 100, 1000, 110, 1000), "--effect", "0.01")
    power = found["power"]
    assert power["more_samples_per_variant"] == power["samples_per_variant"] - 1000 > 0
    assert 0.01 < power["detectable_effect"] < 0.1


def test_a_second_look_at_a_grown_log_warns_unless_sequential(tmp_path):
    log = _binary_log(tmp_path / "ab.jsonl", 100, 500, 120, 500)
    first = invoke(["ab", log])
    assert "warning" not in first.stderr
    again = invoke(["ab", log])
    assert "look" not in again.stderr  # the same rows: no new look at new data
    _binary_log(log, 200, 1000, 240, 1000)
    grown = invoke(["ab", log])
    assert "look 2 at a growing log" in grown.stderr
    _binary_log(log, 300, 1500, 390, 1500)
    result, found = _ab(log, "--sequential", "obrien-fleming", "--planned-n", "6000")
    assert not any("growing log" in w for w in found["warnings"])
    seq = found["sequential"]
    assert seq["information_fractions"] == pytest.approx([1 / 6, 1 / 3, 1 / 2])  # the looks taken, in order
    assert seq["boundaries_z"][0] == pytest.approx(1.959964 * 6 ** 0.5, rel=1e-5)
    assert seq["boundaries_z"] == sorted(seq["boundaries_z"], reverse=True)
    assert seq["crossed"] == (abs(seq["z"]) >= seq["boundary_z"])


def test_bad_rows_are_located_errors(tmp_path):
    log = tmp_path / "ab.jsonl"
    log.write_text('{"variant": "A", "outcome": 1}\nnot json\n{"variant": "B", "outcome": "maybe"}\n{"outcome": 1}\n')
    result = invoke(["ab", log])
    assert result.exit_code == 2
    for where in (f"{log}:2: not valid JSON", f"{log}:3: `outcome` is 'maybe'", f"{log}:4: no `variant`"):
        assert where in result.stderr
    three = _write_jsonl(tmp_path / "three.jsonl", [{"variant": v, "outcome": 1} for v in "ABC"])
    assert invoke(["ab", three]).exit_code == 2


def test_a_spreadsheet_csv_with_a_byte_order_mark_reads(tmp_path):
    log = tmp_path / "ab.csv"
    log.write_text("variant,outcome,user_id\n" + "".join(f"{v},{int(i % 3 == 0)},u{i}\n" for i in range(60)
                                                         for v in "AB"), encoding="utf-8-sig")
    result, found = _ab(log)
    assert result.exit_code == 0 and found["rows"] == 120 and found["user_field"] == "user_id"
    assert found["clustered"] is False  # one row a user in each variant
    assert "60 users appear in both variants" in found["warnings"][0]
