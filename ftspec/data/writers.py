"""Files the data commands write: every one goes to a temporary file in its folder and is moved into place only when
complete (os.replace), so a failed run never leaves half a file and never touches the user's originals."""

from __future__ import annotations

import csv
import json
import os
import tempfile
from pathlib import Path

from ftspec.data.readers import Row, csv_header, nested_deeper
from ftspec.fsutil import file_mode


class AtomicFile:
    """A text or binary file written under a temporary name and renamed on commit()."""

    def __init__(self, target: Path, binary: bool = False):
        self.target = target
        fd, self.temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.fchmod(fd, file_mode())  # mkstemp makes 0600; the copy gets the mode any new file would
        self.handle = os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8",
                                                                                      "newline": ""}))

    def commit(self) -> None:
        self.handle.close()
        os.replace(self.temp, self.target)

    def discard(self) -> None:
        self.handle.close()
        Path(self.temp).unlink(missing_ok=True)


def row_payload(row: Row) -> object:
    """The row as the user wrote it: the parsed record, or the raw text of a line that did not parse (or that nests
    too deep to write back as JSON: the encoder recurses)."""
    if (row.record is not None and not nested_deeper(row.record)) or row.raw is None:
        return row.record
    return row.raw.decode("utf-8", "replace").rstrip("\r\n")


class CleanCopy:
    """The cleaned copy of one data file, in the same format where practical (Parquet is written as JSONL)."""

    def __init__(self, source: Path, kind: str, target: Path):
        self.kind = kind if kind != "parquet" else "jsonl"
        self.target = target if kind != "parquet" else target.with_suffix(".jsonl")
        self.file = AtomicFile(self.target, binary=self.kind == "jsonl")
        self.kept = 0
        if self.kind == "csv":
            self.csv = csv.DictWriter(self.file.handle, fieldnames=csv_header(source), extrasaction="ignore")
            self.csv.writeheader()
        elif self.kind == "json":
            self.file.handle.write("[")

    def write(self, row: Row) -> None:
        if self.kind == "jsonl":
            raw = row.raw if row.raw is not None else json.dumps(row.record, ensure_ascii=False).encode()
            self.file.handle.write(raw if raw.endswith(b"\n") else raw + b"\n")
        elif self.kind == "csv":
            self.csv.writerow(row.record)
        else:
            self.file.handle.write(("," if self.kept else "") + "\n  " + json.dumps(row.record, ensure_ascii=False))
        self.kept += 1

    def commit(self) -> None:
        if self.kind == "json":
            self.file.handle.write("\n]\n")
        self.file.commit()

    def discard(self) -> None:
        self.file.discard()
