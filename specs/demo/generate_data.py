"""Regenerate the demo data: python specs/demo/generate_data.py [--seed N].

Writes data/train.jsonl, data/eval.jsonl and data/adversarial.jsonl beside this script. The generator is seeded,
so the committed files are exactly what this prints; eval and adversarial orders never appear in train.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from ftspec.demo.orders import make_splits

DATA = Path(__file__).resolve().parent / "data"


def write_jsonl(path: Path, rows: list[dict]) -> None:
    """Atomic: a temp file in the same folder, then os.replace."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes the file private; data files are ordinary shared files
    os.replace(tmp, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=DATA)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for split, rows in make_splits(seed=args.seed).items():
        write_jsonl(args.out / f"{split}.jsonl", [row.to_json() for row in rows])
        print(f"{split}: {len(rows)} rows -> {args.out / f'{split}.jsonl'}")


if __name__ == "__main__":
    main()
