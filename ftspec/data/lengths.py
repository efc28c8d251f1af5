"""Token lengths of each row under every candidate model whose tokenizer.json is on disk (tokenizers, not torch)."""

from __future__ import annotations

import functools
import math
import threading
from array import array
from bisect import bisect_right
from pathlib import Path

from ftspec.spec.load import LoadedSpec


class ModelLengths:
    def __init__(self, name: str, tokenizer, limit: int | None = None):
        self.name = name
        self.tokenizer = tokenizer
        self.limit = limit  # the longest row this model can train on (model_limit)
        self.lengths = array("I")

    def measure(self, texts: list[str]) -> list[int]:
        found = [len(encoding) for encoding in self.tokenizer.encode_batch_fast(texts, add_special_tokens=True)]
        self.lengths.extend(found)
        return found

    def stats(self, limit: int | None = None) -> dict:
        limit = self.limit if limit is None else limit
        ordered = sorted(self.lengths)
        if not ordered:
            return {"rows": 0}
        return {"rows": len(ordered), "min": ordered[0], "median": _rank(ordered, 0.5), "p95": _rank(ordered, 0.95),
                "max": ordered[-1], "over_limit": len(ordered) - _count_at_most(ordered, limit), "limit": limit}


class PendingLengths:
    """One batch's token lengths under every meter, measured on a thread while the audit's Python checks of the
    same batch run: tokenizers lets go of the GIL while it encodes, so the two share the machine's cores."""

    def __init__(self, meters: list[ModelLengths], texts: list[str]):
        self._found: list[tuple[ModelLengths, list[int] | Exception]] = []
        self._thread = threading.Thread(target=self._measure, args=(meters, texts), name="token-lengths", daemon=True)
        self._thread.start()

    def _measure(self, meters: list[ModelLengths], texts: list[str]) -> None:
        for meter in meters:
            try:
                self._found.append((meter, meter.measure(texts)))
            except Exception as exc:  # noqa: BLE001 - a tokenizer that cannot encode the data: reported, not fatal
                self._found.append((meter, exc))

    def result(self) -> list[tuple[ModelLengths, list[int] | Exception]]:
        """Each meter with its lengths, or with the error its tokenizer raised, once the thread is done."""
        self._thread.join()
        return self._found


def _rank(ordered: list[int], q: float) -> int:
    """Nearest-rank percentile."""
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _count_at_most(ordered: list[int], limit: int) -> int:
    return bisect_right(ordered, limit)


def planned_seq_length(loaded: LoadedSpec, context: int | None) -> int:
    """The plan's max_seq_length before the plan exists: the spec's, else the default capped by the context
    (the rule of ftspec.compiler.hparams)."""
    from ftspec.compiler.hparams import DEFAULT_SEQ_LENGTH

    given = loaded.spec.training.max_seq_length
    return given or min(context or DEFAULT_SEQ_LENGTH, DEFAULT_SEQ_LENGTH)


def model_limit(loaded: LoadedSpec, model) -> int:
    """The longest row `model` trains on whole: data.quality.max_tokens, else the planned max_seq_length; never
    past the model's context window (a 923-token row does not fit tiny-llama's 512, whatever 2,048 says)."""
    from ftspec.spec.semantic import model_context_window

    context = model_context_window(loaded, model)
    limit = loaded.spec.data.quality.max_tokens or planned_seq_length(loaded, context)
    return min(limit, context) if context else limit


def row_limit(loaded: LoadedSpec) -> int:
    """The tightest candidate's limit, for the audit's summary; each model's meter flags rows by its own."""
    return min(model_limit(loaded, model) for model in loaded.spec.models)


def load_meters(loaded: LoadedSpec) -> tuple[list[ModelLengths], dict[str, str]]:
    """Meters for the models whose tokenizer is on disk, and why the others were skipped."""
    meters, skipped = [], {}
    for model in loaded.spec.models:
        if model.path is None:
            skipped[model.name] = "a hub model: ftspec never downloads its tokenizer"
            continue
        file = loaded.resolve(model.path) / "tokenizer.json"
        if not file.is_file():
            skipped[model.name] = f"no tokenizer.json in {model.path}"
            continue
        try:
            meters.append(ModelLengths(model.name, _load(file), model_limit(loaded, model)))
        except Exception as exc:  # noqa: BLE001 - a broken tokenizer file must not stop the audit
            skipped[model.name] = f"cannot load {model.path}/tokenizer.json: {exc}"
    return meters, skipped


def _load(file: Path):
    """The tokenizer in `file`, loaded once a process while the file is unchanged: the audit and the few-shot check
    (ftspec.compiler.fewshot) share it."""
    stat = file.stat()
    return _load_cached(str(file), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _load_cached(file: str, mtime_ns: int, size: int):
    from tokenizers import Tokenizer  # ~40 ms: only when a tokenizer is on disk

    return Tokenizer.from_file(file)
