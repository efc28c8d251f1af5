"""The data audit: stream every data file of a spec once, run every check, tally findings.

Rows go through in batches (readers.Batch). The per-row checks run a check at a time over a batch: for the flat
formats (instruction, prompt_completion) on whole columns, normalising each field of the batch in one pass and
making a Row only for a row that is flagged; row by row otherwise. The near-duplicate, leakage and length checks
run once per batch (one call into Rust for the MinHash signatures, one into tokenizers). Memory holds hashes and
signatures, never the rows, and a bounded number of those in Python objects: past a few thousand rows they move
to sorted arrays (FirstRows, NearIndex), the MinHash digests to a temporary file. A batch is handed to the sink
(the flagged-row or cleaned-copy writer) and dropped.

Each check flags the later row of a pair (a duplicate, a conflict, a leak) so a row's verdict is final when its
batch ends, and `ftspec data clean` can write its copy in the same pass. Eval-side files are read before train,
so a leak is reported on the train row, which is the one to remove.

The Auditor keeps the pass and the per-row checks; the exact pair checks (data/exact.py) and the per-batch checks
(data/batched.py) are mixins that share its state.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ftspec.data.batched import BatchChecks
from ftspec.data.collect import Tally
from ftspec.data.encoding import describe, repaired, suspects
from ftspec.data.exact import ExactChecks
from ftspec.data.findings import AuditReport
from ftspec.data.firstrows import FirstRows
from ftspec.data.formats import Columns, RowProblem, make_column_extractor, make_extractor
from ftspec.data.lengths import row_limit
from ftspec.data.progress import FileReport
from ftspec.data.readers import Batch, Row, file_kind, read_batches
from ftspec.data.size import size_problems
from ftspec.data.split import is_holdout
from ftspec.data.text import (
    SHORT,
    SOURCE_START,
    Boilerplate,
    column_keys,
    placeholder_reason,
    placeholder_suspects,
    positions_holding,
)
from ftspec.fsutil import display_path
from ftspec.spec.load import LoadedSpec
from ftspec.spec.vocab import AUDIT_CHECKS, FORMAT_FIELDS

BOILERPLATE_SAMPLE = 20_000
SMALL_FIRST_ROWS = 16_384
EVAL_SPLITS = ("eval", "adversarial", "regression")


Sink = Callable[[Row], None]


@dataclass
class SplitState:
    """What one split remembers of the rows it has seen: hashes, and signatures for the near-duplicate search."""

    rows: int = 0
    error_rows: int = 0
    prompts: FirstRows = field(default_factory=FirstRows)  # prompt key -> (target key, ref) of its first row
    rows_seen: dict = field(default_factory=dict)  # (prompt, target) key -> ref, for rows after a prompt's first
    near: object = None  # NearIndex of whole rows
    prompt_near: object = None  # NearIndex of prompts, for leakage


def audit_data(loaded: LoadedSpec, sink: Sink | None = None) -> AuditReport:
    return Auditor(loaded, sink).run()


class Auditor(ExactChecks, BatchChecks):
    def __init__(self, loaded: LoadedSpec, sink: Sink | None = None):
        spec = loaded.spec
        quality = spec.data.quality
        self.loaded, self.sink = loaded, sink
        self.severity = {check: quality.severity.get(check, default) for check, default in AUDIT_CHECKS.items()}
        self.tallies = {check: Tally(check, sev) for check, sev in self.severity.items() if sev != "off"}
        self.extract = make_extractor(spec.data.format, spec.data.fields)
        self.extract_columns = make_column_extractor(spec.data.format, spec.data.fields)
        self.preference = spec.data.format == "preference"
        self.tags_column = spec.data.fields.get("tags", "tags")
        self.threshold = quality.near_duplicate_threshold
        self.limit = row_limit(loaded)  # the plan's max_seq_length within the models' context windows
        self.splits: dict[str, SplitState] = {}
        self.file_names: list[str] = []  # as shown: relative to the current folder (display_path)
        self.file_stats: dict[str, dict] = {}
        self.pairs: list[dict] = []
        self.rules, self.rule_problems = self._target_rules()
        self.meters, self.skipped_tokenizers = self._meters()
        self.boilerplate = Boilerplate()
        self.read_ahead: dict[str, list[Batch]] = {}  # file -> its batches, read while learning the boilerplate
        self.encoding_on = "encoding" in self.tallies
        self.near_on = "near_duplicate" in self.tallies
        self.leak_on = "leakage" in self.tallies
        # the checks that run once a batch, on the rows' views
        self.batched = self.near_on or self.leak_on or bool(self.meters) or sink is not None
        # the exact checks' dict moves to sorted arrays past this many prompts: sooner where a big file's
        # near-duplicate index imports numpy anyway, later where that import would be a sixth of the audit
        self.first_rows_recent = SMALL_FIRST_ROWS if self.near_on or self.leak_on else None

    def _target_rules(self):
        if "format_mismatch" not in self.tallies:
            return [], []
        from ftspec.data.targets import target_rules

        return target_rules(self.loaded)

    def _meters(self):
        if "too_long" not in self.tallies:
            return [], {}
        from ftspec.data.lengths import load_meters

        return load_meters(self.loaded)

    # -- the pass over the files ------------------------------------------------------------------------------

    def run(self) -> AuditReport:
        started = time.perf_counter()
        data = self.loaded.spec.data
        files = [(getattr(data, split), split) for split in EVAL_SPLITS if getattr(data, split)]
        files += [(name, "train") for name in data.train]
        # every path the audit prints or writes (findings, notes, flagged rows, the clean log) is the file as
        # shown from the current folder, not as the spec names it
        self.shown = {name: display_path(self.loaded.resolve(name)) for name, _ in files}
        if self.near_on or self.leak_on:
            self._learn_boilerplate([name for name, _ in files])
        self._holdout_index = 0
        for name, split in files:
            self._audit_file(name, split)
        return self._report(time.perf_counter() - started)

    def _learn_boilerplate(self, names: list[str]) -> None:
        """A first look at up to BOILERPLATE_SAMPLE rows of each file for lines that many rows share. Files read
        whole here, up to BOILERPLATE_SAMPLE rows in all (a small spec's), keep their rows for the audit's pass
        instead of being read twice."""
        kept = 0
        for name in names:
            path = self.loaded.resolve(name)
            batches, seen = [], 0
            for batch in read_batches(path, file_kind(path), self.shown[name]):
                batches.append(batch)
                for raw in batch.rows()[:BOILERPLATE_SAMPLE - seen]:
                    self._observe(raw)
                seen += len(batch)
                if seen >= BOILERPLATE_SAMPLE:
                    break
            else:
                if kept + seen <= BOILERPLATE_SAMPLE and name not in self.read_ahead:
                    self.read_ahead[name] = batches
                    kept += seen
        self.boilerplate.settle()

    def _observe(self, row: Row) -> None:
        try:
            view = self.extract(row.record) if row.error is None else None
        except RowProblem:
            return
        if view is not None:
            self.boilerplate.observe(view.prompt, view.target, view.rejected or "")

    def _audit_file(self, name: str, split: str) -> None:
        path = self.loaded.resolve(name)
        kind = file_kind(path)
        file_index = len(self.file_names)
        shown = self.shown[name]
        self.file_names.append(shown)
        holdout = self.loaded.spec.data.holdout if split == "train" else None
        self.file_stats[shown] = {"split": "train+holdout" if holdout else split, "kind": kind, "rows": 0,
                                 "flagged": 0}
        self._state(split)
        if holdout:
            self._state("eval")
        rows = 0
        self._base = file_index << 32  # a row's ref: self._base | row.line
        report = FileReport(shown, split, path, kind)
        for batch in self.read_ahead.pop(name, None) or read_batches(path, kind, shown):
            rows += len(batch)
            self._assign_splits(batch, split, holdout)
            self._check_rows(batch)
            if self.batched:
                self._finish_batch(batch.rows())
            for state in self.splits.values():
                state.prompts.settle()
            report.batch(rows, batch)
        report.finish(rows)
        self.file_stats[shown]["rows"] = rows
        if not holdout:
            self.splits[split].rows += rows

    def _assign_splits(self, batch: Batch, split: str, holdout) -> None:
        batch.split = split
        if not holdout:
            if self.batched or batch.has_rows():
                for row in batch.rows():
                    row.split = split
            return
        seed = self.loaded.spec.training.seed
        for row in batch.rows():  # rows that fail to parse stay in train
            row.split = split
            if row.error is None:
                row.split = "eval" if is_holdout(self._holdout_index, seed, holdout) else "train"
                self._holdout_index += 1
            self.splits[row.split].rows += 1

    def _state(self, split: str) -> SplitState:
        state = self.splits.get(split)
        if state is None:
            state = self.splits[split] = SplitState(prompts=FirstRows(self.first_rows_recent))
        return state

    def _flag(self, row: Row, check: str, message: str) -> None:
        tally = self.tallies.get(check)
        if tally is None:
            return
        if row.flags is None:
            row.flags = []
            self.file_stats[row.file]["flagged"] += 1
        if tally.severity == "error" and not any(self.severity[c] == "error" for c, _ in row.flags):
            self.splits[row.split].error_rows += 1
        row.flags.append((check, message))
        tally.add(row.file, row.line, message)

    def _where(self, ref: int) -> str:
        return f"{self.file_names[ref >> 32]}:{ref & 0xFFFFFFFF}"

    # -- per-row checks ---------------------------------------------------------------------------------------

    def _check_rows(self, batch: Batch) -> None:
        """Column by column where the format is flat and every row of the batch is well formed (most batches);
        row by row otherwise. Both give the same findings, in the same order: the exact checks come last, once
        the batch's prompt keys are known (see FirstRows.prefetch)."""
        columns = self.extract_columns(batch.records) if self.extract_columns else None
        if columns is not None and self._check_columns(batch, columns):
            return
        keyed = [(row, keys) for row in batch.rows() if (keys := self._check_row(row)) is not None]
        self._prefetch([keys[0] for _, keys in keyed])
        for row, (prompt_key, target_key, answers) in keyed:
            if answers is not None:
                self._preference_conflict(row, self.splits[row.split], prompt_key, *answers)
            self._exact_keys(row, prompt_key, target_key)

    def _prefetch(self, prompt_keys: list[int]) -> None:
        for state in self.splits.values():
            state.prompts.prefetch(prompt_keys)

    def _check_row(self, row: Row) -> tuple | None:
        """The checks of one row up to the exact ones, and the row's keys for those: (prompt key, target key,
        the chosen and rejected answers' keys of a preference row)."""
        if row.error is not None:
            self._flag(row, "parse_error", row.error)
            return None
        try:
            view = self.extract(row.record)
        except RowProblem as problem:
            self._flag(row, problem.check, str(problem))
            return None
        row.view = view
        # lower-cased once, for the merged-instructions gate here and for the duplicate keys in _keys
        prompt, target = view.prompt.lower(), view.target.lower()
        merged = "nstruction" in prompt or "nstruction" in target or (
            view.rejected is not None and "nstruction" in view.rejected.lower())
        if reason := self._placeholder(view.texts, view.layout, merged, view.target):
            self._flag(row, "placeholder", reason)
        if self.encoding_on:
            for text, layout in zip(view.texts, view.layout, strict=False):
                if fixed := repaired(text):
                    self._flag(row, "encoding", f"`{layout[0]}`: {describe(text, fixed)}")
                    break
        if self.rules:
            self._format_mismatch(row, view.target)
        return self._keys(view, prompt, target)

    @staticmethod
    def _placeholder(texts: tuple, layouts: tuple, merged: bool, target: str) -> str | None:
        """The first text's reason; the first text (the instruction, the prompt, a chat's first turn) is what
        asks for the others."""
        for text, layout in zip(texts, layouts, strict=False):
            # placeholder_reason's cheap gate, inline (most rows fail it): short values, a suspected merge, or a
            # source short enough to be a bare URL or attachment and starting like one
            size = len(text)
            if not size or (size > SHORT and not merged and (
                    size > layout[2] or (text[0] not in SOURCE_START and "ttach" not in text))):
                continue
            if reason := placeholder_reason(text, layout[1], target, texts[0] if text is not texts[0] else ""):
                return f"`{layout[0]}`: {reason}"
        return None

    def _check_columns(self, batch: Batch, columns: Columns) -> bool:
        """_check_row for a batch of well-formed rows of a flat format, a check at a time: each field of the whole
        batch is normalised in one pass, only the rows that pass a placeholder gate are looked at one by one, and
        a Row is made only for a row that is flagged. False (nothing done) when a text holds a NUL."""
        texts = columns.texts
        keyed = [column_keys(column) for column in texts]
        if None in keyed:
            return False
        # rows that may hold "instruction": a superset of _check_row's `merged`, which only widens the gate that
        # placeholder_reason() decides on
        merged = set().union(*(positions_holding(normalised, b"nstruction") for normalised, _ in keyed))
        suspects = merged.union(*(placeholder_suspects(column, layout[2])
                                  for column, layout in zip(texts, columns.layout, strict=True)))
        for i in sorted(suspects):
            row_texts = tuple(column[i] for column in texts)
            if reason := self._placeholder(row_texts, columns.layout, i in merged, row_texts[-1]):
                self._flag(batch.row(i), "placeholder", reason)
        if self.encoding_on:
            self._encoding_columns(batch, columns)
        if self.rules:
            for row, target in zip(batch.rows(), texts[-1], strict=True):
                self._format_mismatch(row, target)
        if self.batched:
            for row, view in zip(batch.rows(), columns.views(), strict=True):
                row.view = view
        prompt_parts = keyed[0][1] if columns.prompt_fields == 1 else map(bytes.__add__, keyed[0][1], keyed[1][1])
        prompt_keys = list(map(hash, prompt_parts))
        self._prefetch(prompt_keys)
        self._exact_batch(batch, prompt_keys, map(hash, keyed[-1][1]))
        return True

    def _encoding_columns(self, batch: Batch, columns: Columns) -> None:
        """The encoding check of _check_row, a column at a time: ftfy sees only the suspected texts."""
        found: dict[int, str] = {}
        for column, layout in zip(columns.texts, columns.layout, strict=True):
            for i in suspects(column):
                if i not in found and (fixed := repaired(column[i])):
                    found[i] = f"`{layout[0]}`: {describe(column[i], fixed)}"
        for i in sorted(found):
            self._flag(batch.row(i), "encoding", found[i])

    def _format_mismatch(self, row: Row, target: str) -> None:
        record = row.record
        for rule in self.rules:
            tags = record.get(self.tags_column) if rule.slice not in ("all", *EVAL_SPLITS) else None
            if rule.applies(row.split, tags) and (reason := rule.test(target)):
                self._flag(row, "format_mismatch", f"target {reason}")
                return

    # -- the report -------------------------------------------------------------------------------------------

    def _report(self, seconds: float) -> AuditReport:
        clean_rows = {split: state.rows - state.error_rows for split, state in self.splits.items()}
        details = self._details()
        if "size" in self.tallies:
            details["size"] = self._size(clean_rows)
        data = self.loaded.spec.data
        context = {"format": data.format, "fields": ", ".join(FORMAT_FIELDS[data.format]),
                   "near": self.threshold, "max_tokens": self.limit}
        findings = [tally.finding(context, details.get(check)) for check, tally in self.tallies.items()]
        stats = {
            "files": self.file_stats,
            "rows": {split: state.rows for split, state in self.splits.items()},
            "clean_rows": clean_rows,
            "flagged_rows": sum(s["flagged"] for s in self.file_stats.values()),
            "max_tokens": self.limit,
            "token_lengths": {meter.name: meter.stats() for meter in self.meters},
            "seconds": round(seconds, 3),
        }
        if self.skipped_tokenizers:
            stats["tokenizers_skipped"] = self.skipped_tokenizers
        return AuditReport(findings=findings, stats=stats)

    def _details(self) -> dict:
        details = {"near_duplicate": {"threshold": self.threshold, "pairs": self.pairs},
                   "too_long": {"limit": self.limit, "skipped": self.skipped_tokenizers}}
        if self.rules or self.rule_problems:
            details["format_mismatch"] = {"rules": [f"{rule.metric} (slice {rule.slice})" for rule in self.rules],
                                          "not_checked": self.rule_problems}
        return details

    def _size(self, clean_rows: dict[str, int]) -> dict:
        tally = self.tallies["size"]
        problems = size_problems(self.loaded, clean_rows)
        for problem in problems:
            tally.add(display_path(problem.where.file), problem.where.line, problem.message)
        if "size" not in self.loaded.spec.data.quality.severity and any(p.severity == "error" for p in problems):
            tally.severity = "error"
        return {"problems": [{"severity": p.severity, "message": p.message} for p in problems]}
