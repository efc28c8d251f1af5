"""The audit on Ray Data: the per-row work that dominates an audit's time (parsing, normalising, the MinHash
signatures of prompts, token lengths) runs in parallel on a Ray cluster, block by block, and the near-duplicate
search runs as an LSH band join on Ray (ray_join: rows to band buckets, a groupby, pairs verified exactly); the
decisions are the local engine's own, made in order on the driver from those results, so the findings are the
same.

Why the decisions stay on the driver: every check flags the later row of a pair against the first one seen, so
a verdict depends on the order of the rows; the driver's share per row is a lookup (a 16-byte key into what Ray
computed), against the parsing, hashing and tokenizing moved to the workers. With no address, a local Ray
instance (2 CPUs, a small object store, no dashboard, logs in a temporary folder); with one, an existing cluster
(`ray start --head` on the main node; `--address HOST:6379`).

Files Ray cannot read the same way (a CSV it types differently, a blank line) simply miss the cache: their
signatures and lengths are computed on the driver, the result is the same; the band join runs only where every
file is JSONL or a JSON array (read row for row as the local reader does), else the driver searches as the local
engine does. Memory: one file's prompt signatures and lengths at a time (~0.7 KB a row), dropped when the file is
done, and the verified near-duplicate pairs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
import resource
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import ray

from ftspec.data import neardup
from ftspec.data.audit import Auditor
from ftspec.data.batched import _length_text
from ftspec.data.formats import RowProblem
from ftspec.data.readers import file_kind

LOCAL_CPUS = 2
LOCAL_OBJECT_STORE = 256 * 1024 * 1024  # bytes: the machine is shared; blocks are small
BATCH_ROWS = 2048
JOIN_KINDS = {"jsonl", "json"}  # files Ray reads row for row as the local reader does: the join sees every row


def token_key(tokens: list[bytes]) -> bytes:
    """A key for a token list, the same in every process (Python's own hash of bytes is salted per process)."""
    return hashlib.blake2b(b"\x00".join(tokens), digest_size=16).digest()


class RayAuditor(Auditor):
    def __init__(self, loaded, sink=None, address: str | None = None):
        super().__init__(loaded, sink)
        self.address = address
        self.cache: dict[bytes, bytes] = {}  # token_key -> pickled RMinHash, for the file being audited
        self.ray_stats = {"rows_on_ray": 0, "cache_hits": 0, "cache_misses": 0}
        self.decisions = None  # NearDecisions, where the near-duplicate search ran as a join on Ray

    def run(self):
        started = time.perf_counter()
        with ray_session(self.address), self._signatures_from_cache():
            self.ray_stats["start_s"] = round(time.perf_counter() - started, 3)
            self.ray_stats["address"] = ray.get_runtime_context().gcs_address  # the cluster the audit ran on
            report = super().run()
        self.ray_stats["audit_s"] = round(time.perf_counter() - started, 3)
        self.ray_stats["driver_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        report.stats["engine"] = {"name": "ray", **self.ray_stats}
        return report

    def _learn_boilerplate(self, names: list[str]) -> None:
        """Then, the words known, the near-duplicate band join on Ray over every file (see ray_join)."""
        super()._learn_boilerplate(names)
        kinds = {file_kind(self.loaded.resolve(name)) for name in names}
        if not self.near_on or not kinds <= JOIN_KINDS:
            return
        from ftspec.data.engines.ray_join import NearDecisions, verified_pairs

        started = time.perf_counter()
        datasets = [_read(str(self.loaded.resolve(name)), file_kind(self.loaded.resolve(name))) for name in names]
        pairs = verified_pairs(datasets, self.extract, self.boilerplate, _records, self.threshold)
        self.decisions = NearDecisions(pairs)
        self.ray_stats.update(join_s=round(time.perf_counter() - started, 3), verified_pairs=len(pairs))

    def _near_duplicates(self, rows) -> None:
        if self.decisions is None:
            super()._near_duplicates(rows)
            return
        from ftspec.data.engines.ray_join import content_key

        for row in rows:
            if not row.duplicate and (hit := self.decisions.search(row.split, content_key(self._words(row.view)),
                                                                   self._base | row.line)):
                self._flag_near(row, *hit)

    def _audit_file(self, name: str, split: str) -> None:
        if (self.near_on and self.decisions is None) or self.leak_on or self.meters:
            started = time.perf_counter()
            self.cache = self._signatures_on_ray(name)
            self.ray_stats["sign_s"] = round(self.ray_stats.get("sign_s", 0) + time.perf_counter() - started, 3)
        try:
            super()._audit_file(name, split)
        finally:
            self.cache = {}

    def _signatures_on_ray(self, name: str) -> dict[bytes, bytes]:
        """Every row's and prompt's signature in the file, computed by Ray Data block by block."""
        path = str(self.loaded.resolve(name))
        dataset = _read(path, file_kind(self.loaded.resolve(name)))
        sign = _Signer(self.extract, self.boilerplate, rows=self.near_on and self.decisions is None,
                       prompts=self.leak_on, tokenizers=self._tokenizer_files())
        cache: dict[bytes, bytes] = {}
        for batch in dataset.map_batches(sign, batch_size=BATCH_ROWS, batch_format="pandas").iter_batches(
                batch_size=None, batch_format="pandas"):
            cache.update(zip(batch["key"], batch["signature"], strict=True))
            self.ray_stats["rows_on_ray"] += int(batch["what"].value_counts().max()) if len(batch) else 0
            peak = int(batch["worker_peak_mb"].max()) if len(batch) else 0
            self.ray_stats["worker_peak_mb"] = max(self.ray_stats.get("worker_peak_mb", 0), peak)
        return cache

    def _tokenizer_files(self) -> dict[str, str]:
        paths = {model.name: model.path for model in self.loaded.spec.models}
        return {meter.name: str(self.loaded.resolve(paths[meter.name]) / "tokenizer.json") for meter in self.meters}

    def _start_lengths(self, rows):
        """The batch's token lengths from Ray's results; measured here, as the local engine does, where any is
        missing (a tokenizer that failed on Ray, a file Ray read differently)."""
        texts = [_length_text(row.view) for row in rows]
        found = [self.cache.get(length_key(text)) for text in texts]
        if not rows or None in found:
            return super()._start_lengths(rows)
        per_row = [pickle.loads(value) for value in found]
        if any(meter.name not in lengths for meter in self.meters for lengths in per_row):
            return super()._start_lengths(rows)
        self.ray_stats["lengths_on_ray"] = self.ray_stats.get("lengths_on_ray", 0) + len(rows)
        measured = []
        for meter in self.meters:
            lengths = [lengths[meter.name] for lengths in per_row]
            meter.lengths.extend(lengths)
            measured.append((meter, lengths))
        return _Measured(measured)

    @contextmanager
    def _signatures_from_cache(self):
        """The local engine's checks call neardup.signatures; during this audit it answers from Ray's results."""
        compute = neardup.signatures

        def cached(token_lists):
            found = [self.cache.get(token_key(tokens)) for tokens in token_lists]
            missing = [i for i, hit in enumerate(found) if hit is None]
            self.ray_stats["cache_hits"] += len(found) - len(missing)
            self.ray_stats["cache_misses"] += len(missing)
            computed = iter(compute([token_lists[i] for i in missing])) if missing else iter(())
            return [pickle.loads(hit) if hit is not None else next(computed) for hit in found]

        neardup.signatures = cached
        try:
            yield
        finally:
            neardup.signatures = compute


class _Signer:
    """The per-block function: the local engine's extractor and boilerplate-aware words, then rensa MinHash (rows'
    words where the driver searches near duplicates, prompts' where it checks leakage); and each row's token
    lengths under every meter's tokenizer, keyed by the text measured (a record of kind "lengths")."""

    def __init__(self, extract, boilerplate, rows: bool = True, prompts: bool = True, tokenizers: dict | None = None):
        self.extract, self.boilerplate, self.rows, self.prompts = extract, boilerplate, rows, prompts
        self.tokenizers = tokenizers or {}  # meter name -> its tokenizer.json, loaded in the worker

    def __call__(self, batch):
        import pandas as pd

        token_lists, what, length_texts = [], [], []
        for record in _records(batch):
            try:
                view = self.extract(record)
            except RowProblem:
                continue
            if view is None:
                continue
            texts = (view.prompt, view.target) if view.rejected is None else (view.prompt, view.target, view.rejected)
            if self.rows:
                token_lists.append(self.boilerplate.words(*texts))
                what.append("row")
            if self.prompts:
                token_lists.append(self.boilerplate.words(view.prompt))
                what.append("prompt")
            length_texts.append(_length_text(view))
        keys = [token_key(tokens) for tokens in token_lists]
        values = [pickle.dumps(s) for s in neardup.signatures(token_lists)] if token_lists else []
        if self.tokenizers and length_texts:
            lengths = self._lengths(length_texts)
            keys += [length_key(text) for text in length_texts]
            values += [pickle.dumps({name: found[i] for name, found in lengths.items()})
                       for i in range(len(length_texts))]
            what += ["lengths"] * len(length_texts)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # this worker's peak RSS so far
        return pd.DataFrame({"key": keys, "signature": values, "what": what, "worker_peak_mb": [peak_mb] * len(keys)})

    def _lengths(self, texts: list[str]) -> dict[str, list[int]]:
        """ModelLengths.measure's numbers; a tokenizer that fails is left out (the driver then measures, and
        reports the failure as the local engine does)."""
        from ftspec.data.lengths import _load

        found = {}
        for name, file in self.tokenizers.items():
            try:
                encodings = _load(Path(file)).encode_batch_fast(texts, add_special_tokens=True)
            except Exception:  # noqa: BLE001 - measured again on the driver, which reports it
                continue
            found[name] = [len(encoding) for encoding in encodings]
        return found


def length_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16, person=b"lengths").digest()


class _Measured:
    """PendingLengths' result, already there."""

    def __init__(self, measured: list):
        self.measured = measured

    def result(self) -> list:
        return self.measured


def _records(batch) -> list:
    if "text" in batch.columns and len(batch.columns) == 1:  # JSONL read as lines: parsed as the local reader does
        out = []
        for line in batch["text"]:
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out
    return batch.to_dict(orient="records")


def _read(path: str, kind: str):
    if kind == "json":  # one JSON array: read here, signed in parallel
        return ray.data.from_items([{"text": json.dumps(record)} for record in json.loads(Path(path).read_bytes())])
    if kind == "parquet":
        return ray.data.read_parquet(path)
    if kind == "csv":
        return ray.data.read_csv(path)
    return ray.data.read_text(path)


@contextmanager
def ray_session(address: str | None):
    """Ray for one audit: the cluster at `address`, else a small local instance shut down afterwards."""
    if ray.is_initialized():
        yield
        return
    temp = None
    if address:
        ray.init(address=address, log_to_driver=False)
    else:
        temp = tempfile.mkdtemp(prefix="ftspec-ray-")  # the local instance's logs and sockets, removed after
        ray.init(num_cpus=LOCAL_CPUS, object_store_memory=LOCAL_OBJECT_STORE, include_dashboard=False,
                 log_to_driver=False, _temp_dir=temp)
    try:
        ray.data.DataContext.get_current().enable_progress_bars = False
        logging.getLogger("ray.data").setLevel(logging.WARNING)  # the audit's own output says what happened
        yield
    finally:
        ray.shutdown()
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
