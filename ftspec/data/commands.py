"""The stages behind `ftspec data audit` (every flagged row to a JSONL file) and `ftspec data clean` (a cleaned copy
plus a log): the sinks the audit writes rows to. ftspec.commands.data runs them and presents the result."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from ftspec.data.findings import AuditReport
from ftspec.data.readers import Row, file_kind
from ftspec.data.writers import AtomicFile, CleanCopy, row_payload
from ftspec.errors import UsageError
from ftspec.fsutil import display_path
from ftspec.spec.load import LoadedSpec


class FlaggedRows:
    """The sink that writes one JSON line per (row, check): where, what, and the row itself."""

    def __init__(self, out: Path):
        if out.is_dir():
            raise UsageError(f"{out} is a folder", "give --out a file name such as flagged.jsonl")
        if not out.parent.is_dir():
            raise UsageError(f"no such folder: {out.parent}", "create it first, or write somewhere else")
        self.file = AtomicFile(out)
        self.rows = self.lines = 0

    def __call__(self, row: Row) -> None:
        if not row.flags:
            return
        self.rows += 1
        payload = row_payload(row)
        for check, message in row.flags:
            entry = {"file": row.file, "line": row.line, "split": row.split, "check": check, "message": message,
                     "row": payload}
            self.file.handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
            self.lines += 1

    def commit(self) -> None:
        self.file.commit()

    def discard(self) -> None:
        self.file.discard()


class Cleaner:
    """The sink that copies each row the audit did not flag (by any check not set to off) and logs each row it
    leaves out with the reasons. Of a duplicate, conflicting or near-duplicate pair the later row is the flagged
    one, so the first copy stays; of a leak, the train row goes and the eval set stays as it is. With
    fix_encoding, a row flagged only for mojibake is kept with its text repaired (ftfy), and logged as repaired."""

    def __init__(self, loaded: LoadedSpec, folder: Path, fix_encoding: bool = False):
        self.loaded, self.folder, self.fix_encoding = loaded, folder, fix_encoding
        self.copies: dict[str, CleanCopy] = {}  # by the file as shown (Row.file)
        self.removed: dict[str, int] = Counter()
        self.repaired: dict[str, int] = Counter()
        self.kept_by_split: dict[str, int] = Counter()
        self.by_check: Counter = Counter()
        self.log = AtomicFile(folder / "clean_log.jsonl")
        names = _data_files(loaded)
        self.targets = _target_names(names)
        self.names = {display_path(loaded.resolve(name)): name for name in reversed(names)}  # shown -> spec's

    def __call__(self, row: Row) -> None:
        copy = self.copies.get(row.file) or self._open(row.file)
        if row.flags and self.fix_encoding and all(check == "encoding" for check, _ in row.flags):
            self._repair(row)
        if not row.flags:
            copy.write(row)
            self.kept_by_split[row.split] += 1
            return
        self.removed[row.file] += 1
        checks = sorted({check for check, _ in row.flags})
        self.by_check.update(checks)
        entry = {"file": row.file, "line": row.line, "action": "removed", "checks": checks,
                 "reasons": [m for _, m in row.flags], "row": row_payload(row)}
        self.log.handle.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def _repair(self, row: Row) -> None:
        from ftspec.data.encoding import repair_record

        row.record, _ = repair_record(row.record)
        row.raw = None  # the copy writes the repaired record, not the original line
        self.repaired[row.file] += 1
        entry = {"file": row.file, "line": row.line, "action": "repaired", "checks": ["encoding"],
                 "reasons": [m for _, m in row.flags], "row": row.record}
        self.log.handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
        row.flags = None

    def _open(self, shown: str) -> CleanCopy:
        name = self.names.get(shown, shown)
        path = self.loaded.resolve(name)
        copy = self.copies[shown] = CleanCopy(path, file_kind(path), self.folder / self.targets[name])
        return copy

    def commit(self, report: AuditReport) -> dict:
        for shown in self.names:  # a file without rows still gets its (empty) copy
            if shown not in self.copies:
                self._open(shown)
        files = {}
        for shown, copy in self.copies.items():
            copy.commit()
            files[shown] = {"written": copy.target.name, "kept": copy.kept, "removed": self.removed.get(shown, 0)}
            if self.fix_encoding:
                files[shown]["repaired"] = self.repaired.get(shown, 0)
        self.log.commit()
        # clean_rows: the rows of each split in the cleaned copy (what `kept` adds up to), not the audit's count
        # of rows without a blocking problem, which also counts the rows flagged with warnings
        summary = {"files": files, "removed_by_check": dict(self.by_check.most_common()),
                   "log": "clean_log.jsonl", "clean_rows": dict(self.kept_by_split)}
        if self.fix_encoding:
            summary["repaired_by_check"] = {"encoding": sum(self.repaired.values())}
        summary_file = AtomicFile(self.folder / "clean_summary.json")
        summary_file.handle.write(json.dumps(summary, indent=2) + "\n")
        summary_file.commit()
        return summary

    def discard(self) -> None:
        for copy in self.copies.values():
            copy.discard()
        self.log.discard()


def _data_files(loaded: LoadedSpec) -> list[str]:
    data = loaded.spec.data
    return [*data.train, *(name for name in (data.eval, data.adversarial, data.regression) if name)]


def _target_names(names: list[str]) -> dict[str, str]:
    """Each data file's name in the output folder: its own file name, numbered where two would collide."""
    targets: dict[str, str] = {}
    for i, name in enumerate(dict.fromkeys(names)):
        base = Path(name).name
        targets[name] = base if base not in targets.values() else f"{Path(base).stem}-{i}{Path(base).suffix}"
    return targets


def _refuse_originals(loaded: LoadedSpec, targets: list[Path], message: str, folders: bool = False) -> None:
    originals = {loaded.resolve(name) for name in _data_files(loaded)}
    parents = {path.parent for path in originals} if folders else set()
    if any(target in originals or target in parents for target in targets):
        raise UsageError(message, "ftspec never edits or writes beside the original data")
