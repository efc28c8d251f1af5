"""Errors a user can act on, and the exit codes that CI scripts rely on (a contract: extend, never renumber)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    GATE_FAILED = 1  # the model missed a threshold (or a build is stale, for `build --check`)
    INVALID = 2  # the spec, the data or the arguments are invalid
    INTERNAL = 3  # a bug in ftspec or a crash in a generated script


@dataclass(frozen=True)
class Location:
    file: str
    line: int | None = None  # 1-based
    col: int | None = None  # 1-based

    def __str__(self) -> str:
        if self.line is None:
            return self.file
        return f"{self.file}:{self.line}:{self.col or 1}"


class FtspecError(Exception):
    """Base of every error ftspec reports without a traceback."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def lines(self) -> list[str]:
        return [str(self)]

    def to_json(self) -> list[dict]:
        return [{"message": str(self)}]


@dataclass
class Problem:
    """One located problem in a spec: where, the dotted path, what is wrong, how to mend it."""

    location: Location
    path: str
    message: str
    hint: str | None = None

    def format(self) -> str:
        where = f"{self.location}  {self.path}" if self.path else str(self.location)
        text = f"{where}  {self.message}"
        return f"{text}\n    hint: {self.hint}" if self.hint else text

    def to_json(self) -> dict:
        loc = self.location
        return {"file": loc.file, "line": loc.line, "col": loc.col, "path": self.path,
                "message": self.message, "hint": self.hint}


class SpecError(FtspecError):
    """Every problem found in a spec, reported all at once."""

    exit_code = ExitCode.INVALID

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"{len(problems)} {noun} in the spec")

    def lines(self) -> list[str]:
        return [p.format() for p in self.problems]

    def to_json(self) -> list[dict]:
        return [p.to_json() for p in self.problems]


class UsageError(FtspecError):
    """Bad arguments or a state the user must change (a missing build, a run that does not exist)."""

    exit_code = ExitCode.INVALID

    def __init__(self, message: str, hint: str | None = None):
        self.hint = hint
        super().__init__(message)

    def lines(self) -> list[str]:
        return [str(self)] + ([f"    hint: {self.hint}"] if self.hint else [])

    def to_json(self) -> list[dict]:
        return [{"message": str(self), "hint": self.hint}]


class ScriptFailed(FtspecError):
    """A generated script exited non-zero; its log says why."""

    exit_code = ExitCode.INTERNAL

    def __init__(self, script: str, returncode: int, log: str):
        self.script, self.returncode, self.log = script, returncode, log
        super().__init__(f"{script} exited with code {returncode}; see {log}")
