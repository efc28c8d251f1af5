"""The sweep section of the spec, its search space, the spec patch of --apply, and the memory check before a trial
(all without training)."""

from __future__ import annotations

import json
import math

import pytest
from pydantic import ValidationError

from ftspec.spec.models import Sweep
from ftspec.sweep import space
from ftspec.sweep.apply import apply_settings


def _sweep(**space_keys) -> Sweep:
    return Sweep.model_validate({"space": space_keys})


def test_a_log_range_gives_geometric_grid_points_and_a_log_distribution():
    sweep = _sweep(learning_rate={"low": 1e-4, "high": 1e-2, "log": True, "grid_points": 3})
    assert [round(v, 12) for v in space.grid_values("learning_rate", sweep.space.learning_rate)] == [1e-4, 1e-3, 1e-2]
    dist = space.distributions(sweep)["learning_rate"]
    assert (dist.low, dist.high, dist.log) == (1e-4, 1e-2, True)


def test_the_grid_is_every_combination_with_counts_as_whole_numbers():
    sweep = _sweep(epochs={"values": [1, 2]}, batch_size={"low": 2, "high": 8, "grid_points": 2},
                   scheduler={"values": ["cosine", "constant"]})
    points = space.grid(sweep)
    assert len(points) == 2 * 2 * 2
    assert {json.dumps(p, sort_keys=True) for p in points} == {
        json.dumps({"epochs": e, "batch_size": b, "scheduler": s}, sort_keys=True)
        for e in (1, 2) for b in (2, 8) for s in ("cosine", "constant")}
    assert all(isinstance(p["epochs"], int) and isinstance(p["batch_size"], int) for p in points)


@pytest.mark.parametrize("param, message", [
    ({"low": 1e-3}, "either `values"),
    ({"values": [1], "low": 1, "high": 2}, "either `values"),
    ({"low": 3, "high": 2}, "is above high"),
    ({"low": 0, "high": 1, "log": True}, "log range needs low above 0"),
    ({"low": 1, "high": math.inf}, "not a finite number"),
])
def test_a_malformed_range_is_refused_with_its_reason(param, message):
    with pytest.raises(ValidationError, match=message):
        _sweep(learning_rate=param)


def test_an_unknown_key_in_the_space_is_refused():
    with pytest.raises(ValidationError, match="lerning_rate"):
        _sweep(lerning_rate={"values": [1e-3]})


def test_apply_patches_training_and_keeps_the_comments(tmp_path):
    spec = tmp_path / "project.yaml"
    spec.write_text("# my project\nftspec: 1\nname: x  # the name\ntraining:\n  learning_rate: 1.0e-3  # tuned\n"
                    "  seed: 7\n", encoding="utf-8")
    diff = apply_settings(spec, {"learning_rate": 0.002, "epochs": 2, "lora_r": 8})
    text = spec.read_text(encoding="utf-8")
    assert "# my project" in text and "# the name" in text and "seed: 7" in text
    assert "learning_rate: 0.002" in text and "epochs: 2" in text and "lora:\n    r: 8" in text
    assert "-  learning_rate: 1.0e-3" in diff and "+  learning_rate: 0.002" in diff
    assert apply_settings(spec, {"learning_rate": 0.002}) == ""  # already there: nothing to write
