"""The holdout split (`data.holdout`), decided row by row so it streams and so a generated script can repeat it
without ftspec:

    import zlib
    # index: 0-based position among the rows that parse, across the train files in order
    def is_holdout(index, seed, fraction):
        return zlib.crc32(f"{seed}:{index}".encode()) < fraction * 2**32

The same seed (training.seed) and the same files always give the same split.
"""

from __future__ import annotations

import zlib


def is_holdout(index: int, seed: int, fraction: float) -> bool:
    return zlib.crc32(f"{seed}:{index}".encode()) < fraction * 2**32
