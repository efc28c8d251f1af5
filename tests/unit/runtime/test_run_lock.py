"""Two `ftspec run --resume` on one run: the second stops at once instead of training into the same folder."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ftspec.errors import UsageError
from ftspec.runtime.lock import run_lock

HOLDER = """
import sys, time
from pathlib import Path
from ftspec.runtime.lock import run_lock
with run_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_second_holder_is_refused_while_the_first_holds_it(tmp_path):
    with run_lock(tmp_path):
        with pytest.raises(UsageError, match=f"run {tmp_path.name} is being resumed by another ftspec process"):
            with run_lock(tmp_path):
                pass
    with run_lock(tmp_path):  # released when the block ends
        pass


def test_a_killed_holder_leaves_no_lock_behind(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(UsageError):
            with run_lock(tmp_path):
                pass
    finally:
        holder.kill()  # kill -9: no cleanup code runs in the holder
        holder.wait()
    with run_lock(tmp_path):
        pass
