"""`ftspec review preferences RUN --out FILE`: the run's pairwise judgements as a `preference` dataset (JSONL of
prompt, chosen, rejected) that `ftspec data audit` checks and DPO or a reward model trains on. A pair goes in when
its annotators prefer one side by a majority; ties and split votes stay out (counted)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from ftspec.errors import UsageError
from ftspec.fsutil import atomic_write_text
from ftspec.review.store import PREFERENCES, read_jsonl, read_pairs, reviews_dir


def export_preferences(run, out: Path) -> dict:
    judgements, pairs = read_jsonl(reviews_dir(run.path) / PREFERENCES), read_pairs(run.path).get("pairs", {})
    if not judgements:
        raise UsageError(f"run {run.id} has no pairwise judgements", "import them with `ftspec review import FILE`")
    votes: dict[str, Counter] = {}
    for j in judgements:
        votes.setdefault(j["pair"], Counter())[j["winner"]] += 1
    rows, undecided = [], 0
    for pair_id, count in sorted(votes.items()):
        pair = pairs.get(pair_id)
        if pair is None or count["this"] == count["other"]:
            undecided += 1
            continue
        this_wins = count["this"] > count["other"]
        chosen, rejected = (pair["this"], pair["other"]) if this_wins else (pair["other"], pair["this"])
        rows.append({"id": pair["row"], "prompt": pair["prompt"], "chosen": chosen, "rejected": rejected})
    if not rows:
        raise UsageError(f"no pair of run {run.id} has a majority preference", "collect more judgements")
    atomic_write_text(Path(out), "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return {"run": run.id, "out": str(out), "rows": len(rows), "undecided": undecided}
