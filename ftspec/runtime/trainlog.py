"""Reading train_log.jsonl while train.py writes it: new complete lines only, a half-written last line waits
for its newline, and a garbled line is skipped rather than fatal. TrainProgress folds the rows into what the
live view shows: step / max_steps, loss, eval loss, tokens/s and an ETA, and for online RL (grpo) the reward curve.
"""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

_RATE_WINDOW = 20  # train rows the speed (and so the ETA) is measured over
REWARD_WINDOW = 24  # reward rows the live view's reward curve spans


def parse_line(raw: bytes) -> dict | None:
    try:
        row = json.loads(raw)
    except ValueError:
        return None
    return row if isinstance(row, dict) and isinstance(row.get("type"), str) else None


class LogTail:
    """Yields the rows appended to a JSONL file since the last call."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self.skipped = 0  # complete lines that were not a JSON object with a `type`

    def read_new(self) -> list[dict]:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
        except FileNotFoundError:
            return []
        end = chunk.rfind(b"\n")
        if end < 0:
            return []  # nothing complete yet
        self.offset += end + 1
        rows = []
        for raw in chunk[:end].split(b"\n"):
            if not raw.strip():
                continue
            row = parse_line(raw)
            if row is None:
                self.skipped += 1
            else:
                rows.append(row)
        return rows


def read_rows(path: Path) -> list[dict]:
    """Every complete, readable row of a finished or still-growing log."""
    return LogTail(path).read_new()


@dataclass
class TrainProgress:
    max_steps: int | None = None
    step: int = 0
    epoch: float | None = None
    loss: float | None = None
    eval_loss: float | None = None
    tokens_per_second: float | None = None
    resumed_from: int | None = None
    end_status: str | None = None
    early_stopped: bool = False
    reward: float | None = None  # online RL (grpo): the mean reward of the last logging step's sampled answers
    kl: float | None = None
    rewards: deque = field(default_factory=lambda: deque(maxlen=REWARD_WINDOW))  # the recent curve, oldest first
    _speed: deque = field(default_factory=lambda: deque(maxlen=_RATE_WINDOW), repr=False)  # (time, step)

    @classmethod
    def from_rows(cls, rows: list[dict]) -> TrainProgress:
        progress = cls()
        for row in rows:
            progress.update(row)
        return progress

    def update(self, row: dict) -> None:
        kind = row.get("type")
        if kind == "start":
            self.max_steps = _number(row.get("max_steps"), int) or self.max_steps
            self.resumed_from = _checkpoint_step(row.get("resumed_from"))
            self.end_status = None
            self._speed.clear()  # a resumed attempt has its own pace; the pause between attempts is no speed
        elif kind == "train":
            self.step = _number(row.get("step"), int) or self.step
            self.epoch = _number(row.get("epoch"), float)
            self.loss = _number(row.get("loss"), float) if "loss" in row else self.loss
            self.tokens_per_second = _number(row.get("tokens_per_second"), float) or self.tokens_per_second
            when = _number(row.get("time"), float)
            if when is not None:
                self._speed.append((when, self.step))
        elif kind == "eval":
            self.eval_loss = _number(row.get("eval_loss"), float)
        elif kind == "reward":
            self._reward(row)
        elif kind == "end":
            self.end_status = str(row.get("status"))
            self.step = _number(row.get("global_step"), int) or self.step
            self.early_stopped = bool(row.get("early_stopped"))

    def _reward(self, row: dict) -> None:
        """A `reward` row (objectives/grpo.py.j2's RewardLog): the curve the live view draws beside the loss."""
        reward = _number(row.get("reward"), float)
        if reward is None or reward != reward:  # NaN: nothing to draw
            return
        self.reward, self.kl = reward, _number(row.get("kl"), float)
        self.step = _number(row.get("step"), int) or self.step
        self.rewards.append(reward)

    def steps_per_second(self) -> float | None:
        if len(self._speed) < 2:
            return None
        (t0, s0), (t1, s1) = self._speed[0], self._speed[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 and s1 > s0 else None

    def eta_seconds(self) -> float | None:
        """Seconds left at the recent pace; None until two timed train rows exist or without max_steps."""
        rate = self.steps_per_second()
        if rate is None or self.max_steps is None:
            return None
        return max(self.max_steps - self.step, 0) / rate

    def fraction(self) -> float | None:
        return min(self.step / self.max_steps, 1.0) if self.max_steps else None


def _checkpoint_step(value: object) -> int | None:
    """resumed_from as a step: a number, or a checkpoint path ending in checkpoint-N."""
    if isinstance(value, str):
        match = re.search(r"checkpoint-(\d+)/?$", value)
        return int(match.group(1)) if match else None
    return _number(value, int)


def _number(value: object, kind: type) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return kind(value)
