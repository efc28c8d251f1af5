"""The audit's per-batch checks: near-duplicates and near-duplicate leakage (MinHash LSH, one call into Rust a batch)
and token lengths (one call into tokenizers a batch, on a thread beside the near-duplicate checks).

A mixin of data.audit.Auditor: it works on the auditor's splits and flags through it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ftspec.data.readers import Row

if TYPE_CHECKING:
    from ftspec.data.formats import View


class BatchChecks:
    def _finish_batch(self, batch: list[Row]) -> None:
        usable = [row for row in batch if row.view is not None]
        if usable:
            lengths = self._start_lengths(usable) if self.meters else None
            if self.near_on:
                self._near_duplicates(usable)
            if self.leak_on:
                self._near_leaks(usable)
            if lengths is not None:
                self._flag_long(usable, lengths.result())
            for state in self.splits.values():
                for index in (state.near, state.prompt_near):
                    if index is not None:
                        index.settle()
        if self.sink is not None:
            for row in batch:
                self.sink(row)

    def _near_duplicates(self, rows: list[Row]) -> None:
        """Each split's rows searched in its own index (a batch at a time), then flagged in the order they came."""
        from ftspec.data.neardup import NearIndex, signatures

        rows = [row for row in rows if not row.duplicate]
        token_lists = [self._words(row.view) for row in rows]
        found = signatures(token_lists)  # each row's signature, then its hit
        for split in dict.fromkeys(row.split for row in rows):
            state = self.splits[split]
            if state.near is None:
                state.near = NearIndex(self.threshold)
            positions = [i for i, row in enumerate(rows) if row.split == split]
            hits = state.near.search([found[i] for i in positions], [self._base | rows[i].line for i in positions],
                                     [token_lists[i] for i in positions])
            for i, hit in zip(positions, hits, strict=True):
                found[i] = hit
        for row, hit in zip(rows, found, strict=True):
            if hit is not None:
                self._flag_near(row, *hit)

    def _flag_near(self, row: Row, first: int, similarity: float) -> None:
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
        prompt_signatures = signatures(prompt_words)
        # the older rows of each index that the batch's prompts share a band with, in one query a batch
        frozen = {name: state.prompt_near.frozen_candidates(prompt_signatures)
                  for name, state in self.splits.items() if state.prompt_near is not None}
        for i, (row, signature, words) in enumerate(zip(rows, prompt_signatures, prompt_words, strict=True)):
            if not row.leaked:
                self._near_leak(row, signature, words, {name: candidates[i] for name, candidates in frozen.items()})
            if row.split != "train" or holdout:
                state = self.splits[row.split]
                if state.prompt_near is None:
                    state.prompt_near = NearIndex(self.threshold)
                if not row.duplicate:
                    state.prompt_near.add(signature, self._base | row.line, words)

    def _near_leak(self, row: Row, signature, words: list, frozen: dict) -> None:
        for split, other in self._other_splits(row.split):
            hit = other.prompt_near.find(signature, words, frozen.get(split, ())) if other.prompt_near else None
            if hit is not None:
                self._flag(row, "leakage", f"prompt nearly the same as the {split} set's {self._where(hit[0])} "
                                           f"(similarity {hit[1]:.2f})")
                return

    def _start_lengths(self, rows: list[Row]):
        """Tokenizing starts first and runs beside the near-duplicate checks; its flags come after theirs."""
        from ftspec.data.lengths import PendingLengths

        return PendingLengths(self.meters, [_length_text(row.view) for row in rows])

    def _flag_long(self, rows: list[Row], measured: list) -> None:
        over: dict[int, list[str]] = {}
        for meter, found in measured:
            if isinstance(found, Exception):  # e.g. a word-level vocabulary without its unknown token
                self.meters.remove(meter)
                self.skipped_tokenizers[meter.name] = f"its tokenizer failed on {rows[0].file}: {found}"
                continue
            for i, length in enumerate(found):
                if length > meter.limit:
                    over.setdefault(i, []).append(f"{length} tokens for {meter.name} (limit {meter.limit})")
        for i, parts in over.items():
            self._flag(rows[i], "too_long", ", ".join(parts))


def _length_text(view: View) -> str:
    target = view.target if view.rejected is None or len(view.target) >= len(view.rejected) else view.rejected
    return f"{view.prompt}\n{target}"
