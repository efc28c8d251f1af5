"""The dev split: rows carved from train that the trainer evaluates on, for early stopping and the best checkpoint,
so the eval set that gates the model never also picks it (an optimistic gate otherwise).

Its size is a pure function of the number of train rows (after any holdout), so `check` states it without reading
a row, and train.py repeats the rule without ftspec:

    k = dev_size(n)   # round(10% of n), at most 1,000, at least 1; none when train has under 20 rows
    dev = the k indices with the smallest zlib.crc32(f"{seed}:dev:{index}")   # seeded, stable, order-free
"""

from __future__ import annotations

DEV_SHARE = 0.1
DEV_MAX_ROWS = 1000  # evaluating more every epoch costs time and barely steadies the loss
DEV_MIN_TRAIN_ROWS = 20  # below this, every row trains: no dev split, no evaluation during training


def dev_size(train_rows: int, share: float = DEV_SHARE, max_rows: int = DEV_MAX_ROWS,
             min_train_rows: int = DEV_MIN_TRAIN_ROWS) -> int:
    if train_rows < min_train_rows:
        return 0
    return min(max_rows, max(1, round(share * train_rows)))
