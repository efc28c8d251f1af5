"""Run the `ftspec` command in-process, as a terminal would show it (faster than a subprocess per call)."""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass

from ftspec.cli import main


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str
    output: str  # both streams, interleaved as a terminal shows them


class _Tee(io.StringIO):
    def __init__(self, both: io.StringIO):
        super().__init__()
        self._both = both

    def write(self, text: str) -> int:
        self._both.write(text)
        return super().write(text)


@contextlib.contextmanager
def _environment(env: dict[str, str]):
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def invoke(args: list, env: dict[str, str] | None = None) -> CliResult:
    both = io.StringIO()
    out, err = _Tee(both), _Tee(both)
    with _environment(env or {}), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(arg) for arg in args])
    return CliResult(code, out.getvalue(), err.getvalue(), both.getvalue())
