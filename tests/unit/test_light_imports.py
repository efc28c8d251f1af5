"""`ftspec check` must stay fast and work without a GPU stack: it never imports the training libraries."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import DEMO_SPEC

HEAVY = ("torch", "transformers", "peft", "trl", "datasets", "accelerate", "bitsandbytes")

PROBE = """
import contextlib, io, json, sys
from ftspec.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["check", sys.argv[1], "--json"])
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {heavy})
print(json.dumps({{"exit": code, "heavy": loaded}}))
"""


def test_check_imports_no_training_library(demo_model_dir):
    probe = PROBE.format(heavy=set(HEAVY))
    out = subprocess.run([sys.executable, "-c", probe, str(DEMO_SPEC)], capture_output=True, text=True, check=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["exit"] == 0
    assert report["heavy"] == []


# What a small spec's check needs none of: each costs 10-100 ms to import (numpy and pyarrow for big or parquet data,
# jinja2 for build, rich.progress for a long pass, the metric libraries for eval).
OPTIONAL = ("numpy", "pyarrow", "jsonschema", "orjson", "rich.progress", "rich.markdown", "pygments", "jinja2",
            "rouge_score", "sacrebleu")

SUMMARY_PROBE = """
import contextlib, io, json, sys
from ftspec.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["check", sys.argv[1]])
print(json.dumps({{"exit": code, "loaded": sorted(m for m in {optional!r} if m in sys.modules)}}))
"""


def test_the_demo_check_imports_nothing_it_does_not_use(demo_model_dir):
    probe = SUMMARY_PROBE.format(optional=OPTIONAL)
    out = subprocess.run([sys.executable, "-c", probe, str(DEMO_SPEC)], capture_output=True, text=True, check=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report == {"exit": 0, "loaded": []}
