"""The audit's exact pair checks: duplicates after normalising case and whitespace, a prompt with different targets
(conflicting_label), a preference pair and its reverse, and a prompt shared with another split (exact leakage).

A mixin of data.audit.Auditor: it works on the auditor's splits (SplitState: the first row of each prompt key in
FirstRows, and the rows of prompts with several targets) and flags through it."""

from __future__ import annotations

from itertools import count
from typing import TYPE_CHECKING

from ftspec.data.readers import Batch, Row
from ftspec.data.text import WHITESPACE, text_key

if TYPE_CHECKING:
    from ftspec.data.audit import SplitState
    from ftspec.data.formats import View


class ExactChecks:
    def _exact_batch(self, batch: Batch, prompt_keys, target_keys) -> None:
        """_exact_keys for a batch, with its commonest case (a new prompt, one split, no other split to leak
        into) inline."""
        if self.loaded.spec.data.holdout or (self.leak_on and len(self.splits) > 1):
            for row, prompt_key, target_key in zip(batch.rows(), prompt_keys, target_keys, strict=True):
                self._exact_keys(row, prompt_key, target_key)
            return
        state, base = self.splits[batch.split], self._base
        prompts = state.prompts
        lookup, newest = prompts.get if prompts.fetched else prompts.newest.get, prompts.newest
        for i, line, prompt_key, target_key in zip(count(), batch.lines, prompt_keys, target_keys):
            seen = lookup(prompt_key)
            if seen is None:
                newest[prompt_key] = (target_key, base | line)
            else:
                self._repeated_prompt(batch.row(i), state, seen, prompt_key, target_key)

    def _keys(self, view: View, prompt: str, target: str) -> tuple:
        """Hashes of the row's lower-cased texts with whitespace removed (text_key(), inline: it is a measurable
        share of the exact checks)."""
        prompt_key = hash(prompt.encode("utf-8", "surrogatepass").translate(None, WHITESPACE))
        if self.preference:
            answers = text_key(view.target), text_key(view.rejected)
            return prompt_key, hash(answers), answers
        return prompt_key, hash(target.encode("utf-8", "surrogatepass").translate(None, WHITESPACE)), None

    def _exact_keys(self, row: Row, prompt_key: int, target_key: int) -> None:
        """A prompt's first row answers both questions in one lookup; rows_seen only holds the prompts that have
        several targets."""
        state = self.splits[row.split]
        seen = state.prompts.get(prompt_key)
        if seen is None:
            state.prompts.add(prompt_key, target_key, self._base | row.line)
        else:
            self._repeated_prompt(row, state, seen, prompt_key, target_key)
        if self.leak_on:
            self._exact_leak(row, prompt_key)

    def _repeated_prompt(self, row: Row, state: SplitState, seen: tuple, prompt_key: int, target_key: int) -> None:
        if seen[0] == target_key:
            row.duplicate = True
            self._flag(row, "exact_duplicate", f"same as {self._where(seen[1])}")
        else:
            self._another_target(row, state, seen, hash((prompt_key, target_key)))

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
