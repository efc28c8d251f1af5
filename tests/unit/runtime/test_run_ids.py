"""Run folders: ids from the clock, claimed exclusively, never reused; finding a run by id, prefix or `last`."""

from __future__ import annotations

import itertools
import time

import pytest

from ftspec.errors import UsageError
from ftspec.runtime.rundir import RUN_ID, create_run_dir, find_run, new_run_id

NOW = 1_732_170_000.0


def test_id_is_the_local_time_and_a_suffix():
    run_id = new_run_id(NOW, suffix=lambda: "beef")
    assert RUN_ID.match(run_id)
    assert run_id == time.strftime("%Y%m%d-%H%M%S", time.localtime(NOW)) + "-beef"


def test_default_suffixes_are_hex_and_vary():
    ids = {new_run_id(NOW) for _ in range(20)}
    assert all(RUN_ID.match(i) for i in ids) and len(ids) > 1


def test_a_clash_picks_a_new_suffix_and_leaves_the_earlier_run_alone(tmp_path):
    earlier = tmp_path / new_run_id(NOW, suffix=lambda: "aaaa")
    earlier.mkdir()
    (earlier / "status.json").write_text('{"id": "earlier"}')
    suffixes = iter(["aaaa", "aaaa", "bbbb"])
    claimed = create_run_dir(tmp_path, NOW, suffix=lambda: next(suffixes))
    assert claimed.name.endswith("-bbbb") and claimed.is_dir() and not any(claimed.iterdir())
    assert (earlier / "status.json").read_text() == '{"id": "earlier"}'


def test_many_runs_in_the_same_second_get_distinct_folders(tmp_path):
    suffixes = itertools.cycle([f"{n:04x}" for n in range(8)])
    claimed = [create_run_dir(tmp_path, NOW, suffix=lambda: next(suffixes)) for _ in range(8)]
    assert len({p.name for p in claimed}) == 8
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in claimed)


def test_no_free_suffix_is_a_usage_error_not_an_overwrite(tmp_path):
    create_run_dir(tmp_path, NOW, suffix=lambda: "0000")
    with pytest.raises(UsageError, match="could not claim"):
        create_run_dir(tmp_path, NOW, suffix=lambda: "0000")
    assert len(list(tmp_path.iterdir())) == 1


def test_find_run_by_last_id_and_prefix(tmp_path, write_run):
    write_run(tmp_path, "20240101-000000-aaaa", started=1.0)
    write_run(tmp_path, "20240102-000000-bbbb", started=2.0)
    (tmp_path / "notes").mkdir()  # not a run folder
    assert find_run(tmp_path, "last")[0].name == "20240102-000000-bbbb"
    assert find_run(tmp_path, "20240101-000000-aaaa")[1].id == "20240101-000000-aaaa"
    assert find_run(tmp_path, "20240101")[0].name == "20240101-000000-aaaa"


@pytest.mark.parametrize("ref, message", [("2024", "2 runs matching"), ("1999", "no run matching")])
def test_find_run_ambiguous_or_missing_lists_known_ids(tmp_path, write_run, ref, message):
    write_run(tmp_path, "20240101-000000-aaaa", started=1.0)
    write_run(tmp_path, "20240102-000000-bbbb", started=2.0)
    with pytest.raises(UsageError, match=message) as info:
        find_run(tmp_path, ref)
    assert "20240102-000000-bbbb" in info.value.hint


def test_no_runs_at_all(tmp_path):
    with pytest.raises(UsageError, match="no runs"):
        find_run(tmp_path / "runs", "last")
