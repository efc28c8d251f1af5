"""The data audit: stream every data file of a spec once, run every check, tally findings.

Rows go through in batches: the per-row checks run as a row is read; the near-duplicate, leakage and length checks
run once per batch (one call into Rust for the MinHash signatures, one into tokenizers). Memory holds hashes and
signatures, never the rows: a batch is handed to the sink (the flagged-row or cleaned-copy writer) and dropped.

Each check flags the later row of a pair (a duplicate, a conflict, a leak) so a row's verdict is final when its
batch ends, and `ftspec data clean` can write its copy in the same pass. Eval-side files are read before train,
so a leak is reported on the train row, which is the one to remove.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ftspec.compiler.findings import AuditReport
from ftspec.data.collect import Tally
from ftspec.data.formats import RowProblem, View, make_extractor
from ftspec.data.readers import Row, file_kind, read_rows
from ftspec.data.size import size_problems
from ftspec.data.split import is_holdout
from ftspec.data.text import SHORT, SOURCE_START, WHITESPACE, Boilerplate, placeholder_reason, text_key
from ftspec.spec.load import LoadedSpec
from ftspec.spec.vocab import AUDIT_CHECKS, FORMAT_FIELDS

BATCH = 1024
BOILERPLATE_SAMPLE = 20_000
DEFAULT_MAX_TOKENS = 2048
EVAL_SPLITS = ("eval", "adversarial", "regression")


Sink = Callable[[Row], None]


@dataclass
class SplitState:
    """What one split remembers of the rows it has seen: hashes, and signatures for the near-duplicate search."""

    rows: int = 0
    error_rows: int = 0
    prompts: dict = field(default_factory=dict)  # prompt key -> (target key, ref) of its first row
    rows_seen: dict = field(default_factory=dict)  # (prompt, target) key -> ref, for rows after a prompt's first
    near: object = None  # NearIndex of whole rows
    prompt_near: object = None  # NearIndex of prompts, for leakage


def audit_data(loaded: LoadedSpec, sink: Sink | None = None) -> AuditReport:
    return Auditor(loaded, sink).run()


class Auditor:
    def __init__(self, loaded: LoadedSpec, sink: Sink | None = None):
        spec = loaded.spec
        quality = spec.data.quality
        self.loaded, self.sink = loaded, sink
        self.severity = {check: quality.severity.get(check, default) for check, default in AUDIT_CHECKS.items()}
        self.tallies = {check: Tally(check, sev) for check, sev in self.severity.items() if sev != "off"}
        self.extract = make_extractor(spec.data.format, spec.data.fields)
        self.preference = spec.data.format == "preference"
        self.tags_column = spec.data.fields.get("tags", "tags")
        self.threshold = quality.near_duplicate_threshold
        self.limit = quality.max_tokens or spec.training.max_seq_length or DEFAULT_MAX_TOKENS
        self.splits: dict[str, SplitState] = {}
        self.file_names: list[str] = []
        self.file_stats: dict[str, dict] = {}
        self.pairs: list[dict] = []
        self.rules, self.rule_problems = self._target_rules()
        self.meters, self.skipped_tokenizers = self._meters()
        self.boilerplate = Boilerplate()
        self.near_on = "near_duplicate" in self.tallies
        self.leak_on = "leakage" in self.tallies

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
        if self.near_on or self.leak_on:
            self._learn_boilerplate([name for name, _ in files])
        self._holdout_index = 0
        for name, split in files:
            self._audit_file(name, split)
        return self._report(time.perf_counter() - started)

    def _learn_boilerplate(self, names: list[str]) -> None:
        """A first look at up to BOILERPLATE_SAMPLE rows of each file for lines that many rows share."""
        for name in names:
            path = self.loaded.resolve(name)
            for i, raw in enumerate(read_rows(path, file_kind(path))):
                if i >= BOILERPLATE_SAMPLE:
                    break
                try:
                    view = self.extract(raw.record) if raw.error is None else None
                except RowProblem:
                    continue
                if view is not None:
                    self.boilerplate.observe(view.prompt, view.target, view.rejected or "")
        self.boilerplate.settle()

    def _audit_file(self, name: str, split: str) -> None:
        path = self.loaded.resolve(name)
        kind = file_kind(path)
        file_index = len(self.file_names)
        self.file_names.append(name)
        holdout = self.loaded.spec.data.holdout if split == "train" else None
        seed = self.loaded.spec.training.seed
        self.file_stats[name] = {"split": "train+holdout" if holdout else split, "kind": kind, "rows": 0,
                                 "flagged": 0}
        self._state(split)
        if holdout:
            self._state("eval")
        batched = self.near_on or self.leak_on or bool(self.meters) or self.sink is not None
        batch: list[Row] = []
        check_row, rows = self._check_row, 0
        self._base = file_index << 32  # a row's ref: self._base | row.line
        for row in read_rows(path, kind, name):
            rows += 1
            row.split = split
            if holdout:  # rows that fail to parse stay in train
                if row.error is None:
                    row.split = "eval" if is_holdout(self._holdout_index, seed, holdout) else "train"
                    self._holdout_index += 1
                self.splits[row.split].rows += 1
            check_row(row)
            if batched:
                batch.append(row)
                if len(batch) >= BATCH:
                    self._finish_batch(batch)
                    batch = []
        if batch:
            self._finish_batch(batch)
        self.file_stats[name]["rows"] = rows
        if not holdout:
            self.splits[split].rows += rows

    def _state(self, split: str) -> SplitState:
        state = self.splits.get(split)
        if state is None:
            state = self.splits[split] = SplitState()
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

    def _check_row(self, row: Row) -> None:
        if row.error is not None:
            self._flag(row, "parse_error", row.error)
            return
        try:
            view = self.extract(row.record)
        except RowProblem as problem:
            self._flag(row, problem.check, str(problem))
            return
        row.view = view
        # lower-cased once, for the merged-instructions gate here and for the duplicate keys in _exact
        prompt, target = view.prompt.lower(), view.target.lower()
        merged = "nstruction" in prompt or "nstruction" in target or (
            view.rejected is not None and "nstruction" in view.rejected.lower())
        for text, layout in zip(view.texts, view.layout, strict=False):
            # placeholder_reason's cheap gate, inline (most rows fail it): short values, a suspected merge, or a
            # source short enough to be a bare URL or attachment and starting like one
            size = len(text)
            if not size or (size > SHORT and not merged and (
                    size > layout[2] or (text[0] not in SOURCE_START and "ttach" not in text))):
                continue
            if reason := placeholder_reason(text, layout[1], view.target):
                self._flag(row, "placeholder", f"`{layout[0]}`: {reason}")
                break
        if self.rules:
            self._format_mismatch(row, view)
        self._exact(row, view, prompt, target)

    def _format_mismatch(self, row: Row, view: View) -> None:
        record = row.record
        for rule in self.rules:
            tags = record.get(self.tags_column) if rule.slice not in ("all", *EVAL_SPLITS) else None
            if rule.applies(row.split, tags) and (reason := rule.test(view.target)):
                self._flag(row, "format_mismatch", f"target {reason}")
                return

    def _exact(self, row: Row, view: View, prompt: str, target: str) -> None:
        """Exact duplicates, conflicting labels and exact leakage, from hashes of the row's lower-cased texts with
        whitespace removed (text_key(), inline: it is a measurable share of the exact checks). A prompt's first row
        answers both questions in one lookup; rows_seen only holds the prompts that have several targets."""
        state = self.splits[row.split]
        prompt_key = hash(prompt.encode("utf-8", "surrogatepass").translate(None, WHITESPACE))
        if self.preference:
            chosen_key, rejected_key = text_key(view.target), text_key(view.rejected)
            target_key = hash((chosen_key, rejected_key))
            self._preference_conflict(row, state, prompt_key, chosen_key, rejected_key)
        else:
            target_key = hash(target.encode("utf-8", "surrogatepass").translate(None, WHITESPACE))
        seen = state.prompts.get(prompt_key)
        if seen is None:
            state.prompts[prompt_key] = (target_key, self._base | row.line)
        elif seen[0] == target_key:
            row.duplicate = True
            self._flag(row, "exact_duplicate", f"same as {self._where(seen[1])}")
        else:
            self._another_target(row, state, seen, hash((prompt_key, target_key)))
        if self.leak_on:
            self._exact_leak(row, prompt_key)

    def _another_target(self, row: Row, state: SplitState, first: tuple, row_key: int) -> None:
        """A prompt seen before with a different target: a conflict (not for preference pairs, which may share a
        prompt), and maybe a duplicate of a row with that other target."""
        earlier = state.rows_seen.get(row_key)
        if earlier is None:
            state.rows_seen[row_key] = self._base | row.line
        else:
            row.duplicate = True
            self._flag(row, "exact_duplicate", f"same as {self._where(earlier)}")
        if not self.preference:
            self._flag(row, "conflicting_label", f"same prompt as {self._where(first[1])} with a different target")

    def _preference_conflict(self, row: Row, state: SplitState, prompt_key: int, chosen: int, rejected: int):
        if chosen == rejected:
            self._flag(row, "conflicting_label", "chosen and rejected are the same answer")
            return
        reversed_key = hash((rejected, chosen))
        first = state.prompts.get(prompt_key)
        if first is not None and first[0] == reversed_key:
            opposite = first[1]
        else:
            opposite = state.rows_seen.get(hash((prompt_key, reversed_key)))
        if opposite is not None:
            self._flag(row, "conflicting_label", f"{self._where(opposite)} prefers the opposite answer")

    def _exact_leak(self, row: Row, prompt_key: int) -> None:
        for split, other in self._other_splits(row.split):
            seen = other.prompts.get(prompt_key)
            if seen is not None:
                row.leaked = True
                self._flag(row, "leakage", f"prompt also in the {split} set at {self._where(seen[1])}")
                return

    def _other_splits(self, split: str) -> list[tuple[str, SplitState]]:
        if split == "train":
            return [(name, state) for name, state in self.splits.items() if name != "train"]
        train = self.splits.get("train")
        return [("train", train)] if train is not None else []

    # -- per-batch checks -------------------------------------------------------------------------------------

    def _finish_batch(self, batch: list[Row]) -> None:
        usable = [row for row in batch if row.view is not None]
        if usable:
            if self.near_on:
                self._near_duplicates(usable)
            if self.leak_on:
                self._near_leaks(usable)
            if self.meters:
                self._lengths(usable)
        if self.sink is not None:
            for row in batch:
                self.sink(row)

    def _near_duplicates(self, rows: list[Row]) -> None:
        from ftspec.data.neardup import NearIndex, signatures

        rows = [row for row in rows if not row.duplicate]
        for row, signature in zip(rows, signatures([self._words(row.view) for row in rows]), strict=True):
            state = self.splits[row.split]
            if state.near is None:
                state.near = NearIndex(self.threshold)
            hit = state.near.find(signature)
            if hit is None:
                state.near.add(signature, self._base | row.line)
                continue
            first, similarity = hit
            self._flag(row, "near_duplicate", f"near duplicate of {self._where(first)} (similarity {similarity:.2f})")
            if len(self.pairs) < 50:
                self.pairs.append({"row": f"{row.file}:{row.line}", "of": self._where(first),
                                   "similarity": round(similarity, 3)})

    def _words(self, view: View) -> list[str]:
        if view.rejected is None:
            return self.boilerplate.words(view.prompt, view.target)
        return self.boilerplate.words(view.prompt, view.target, view.rejected)

    def _near_leaks(self, rows: list[Row]) -> None:
        """Prompts of one side indexed by MinHash, the other side's prompts looked up in it."""
        from ftspec.data.neardup import NearIndex, signatures

        holdout = bool(self.loaded.spec.data.holdout)
        indexed_elsewhere = any(state.prompt_near for name, state in self.splits.items() if name != "train")
        rows = [row for row in rows if row.split != "train" or holdout or indexed_elsewhere]
        if not rows:
            return
        prompt_words = [self.boilerplate.words(row.view.prompt) for row in rows]
        for row, signature in zip(rows, signatures(prompt_words), strict=True):
            if not row.leaked:
                self._near_leak(row, signature)
            if row.split != "train" or holdout:
                state = self.splits[row.split]
                if state.prompt_near is None:
                    state.prompt_near = NearIndex(self.threshold)
                if not row.duplicate:
                    state.prompt_near.add(signature, self._base | row.line)

    def _near_leak(self, row: Row, signature) -> None:
        for split, other in self._other_splits(row.split):
            hit = other.prompt_near.find(signature) if other.prompt_near else None
            if hit is not None:
                self._flag(row, "leakage", f"prompt nearly the same as the {split} set's {self._where(hit[0])} "
                                           f"(similarity {hit[1]:.2f})")
                return

    def _lengths(self, rows: list[Row]) -> None:
        texts = [_length_text(row.view) for row in rows]
        over: dict[int, list[str]] = {}
        for meter in self.meters:
            for i, length in enumerate(meter.measure(texts)):
                if length > self.limit:
                    over.setdefault(i, []).append(f"{length} tokens for {meter.name}")
        for i, parts in over.items():
            self._flag(rows[i], "too_long", f"{', '.join(parts)} (limit {self.limit})")

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
            "token_lengths": {meter.name: meter.stats(self.limit) for meter in self.meters},
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
            tally.add(problem.where.file, problem.where.line, problem.message)
        if "size" not in self.loaded.spec.data.quality.severity and any(p.severity == "error" for p in problems):
            tally.severity = "error"
        return {"problems": [{"severity": p.severity, "message": p.message} for p in problems]}


def _length_text(view: View) -> str:
    target = view.target if view.rejected is None or len(view.target) >= len(view.rejected) else view.rejected
    return f"{view.prompt}\n{target}"
