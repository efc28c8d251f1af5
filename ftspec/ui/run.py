"""What `ftspec run` and `ftspec runs` show people: a live progress view on a terminal, a plain line every few
steps elsewhere (CI logs), nothing under --json; and the table of runs."""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from ftspec.runtime.trainlog import LogTail, TrainProgress
from ftspec.ui.console import console

PLAIN_LINES = 10  # a non-terminal run prints about this many progress lines


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def fmt_number(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values) -> str:
    """The recent values as a one-line curve, scaled from their minimum to their maximum."""
    values = list(values)
    if len(values) < 2:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    return "".join(SPARK[round((v - low) / span * (len(SPARK) - 1))] for v in values)


def reward_text(progress: TrainProgress) -> str:
    """`reward 0.41 ▁▂▄▆█` (grpo): the last step's mean reward and its recent curve, and the KL to the reference."""
    kl = "" if progress.kl is None else f" · kl {fmt_number(progress.kl, 3)}"
    return f"reward {fmt_number(progress.reward)} {sparkline(progress.rewards)}".rstrip() + kl


def stats_line(progress: TrainProgress, reward: bool = True) -> str:
    parts = [f"loss {fmt_number(progress.loss)}"]
    if reward and progress.reward is not None:
        parts.append(reward_text(progress))
    if progress.eval_loss is not None:
        parts.append(f"eval loss {fmt_number(progress.eval_loss)}")
    if progress.tokens_per_second is not None:
        parts.append(f"{progress.tokens_per_second:,.0f} tok/s")
    parts.append(f"ETA {fmt_duration(progress.eta_seconds())}")
    return " · ".join(parts)


class RunView:
    """Follows train_log.jsonl while train.py runs; `mode` is live (a terminal), plain, or quiet (--json)."""

    def __init__(self, mode: str, out: Console | None = None):
        self.mode, self.out = mode, out or console()
        self.progress = TrainProgress()
        self._tail: LogTail | None = None
        self._bar: Progress | None = None
        self._task = None
        self._printed_step = 0
        self._printed_reward = 0

    @classmethod
    def for_output(cls, as_json: bool) -> RunView:
        out = console()
        return cls("quiet" if as_json else "live" if out.is_terminal else "plain", out)

    def say(self, text: str) -> None:
        if self.mode != "quiet":
            self.out.print(text, highlight=False, soft_wrap=True)  # a command to copy must stay on one line

    def tell(self, text: str, level: str | None = None) -> None:
        """Plain text from the run stage (no markup: a path is shown as it is), with its level's label."""
        if self.mode != "quiet":
            label = Text(f"{level}: ", style="yellow") if level else ""
            self.out.print(Text.assemble(label, text), highlight=False, soft_wrap=True)

    def start_train(self, train_log: Path) -> None:
        self._tail = LogTail(train_log)
        for row in self._tail.read_new():  # a resumed run: catch up on the earlier attempts without replaying them
            self.progress.update(row)
        self._printed_step = self._printed_reward = self.progress.step
        self._begin("train.py", total=None)

    def start_eval(self) -> None:
        self._tail = None
        self._begin("eval.py: generating predictions", total=None)

    def _begin(self, label: str, total: int | None) -> None:
        if self.mode == "live":
            # no refresh thread: children are started with a preexec hook, which must not fork beside threads
            self._bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(bar_width=20),
                                 TextColumn("{task.fields[steps]}"), TextColumn("{task.fields[stats]}"),
                                 TimeElapsedColumn(), console=self.out, auto_refresh=False)
            self._task = self._bar.add_task(label, total=total, steps="", stats="")
            self._bar.start()
        elif self.mode == "plain":
            self.out.print(f"{label} started", highlight=False)

    def tick(self) -> None:
        rows = self._tail.read_new() if self._tail else []
        for row in rows:
            self.progress.update(row)
            if self.mode == "plain":
                self._plain(row)
        if self._bar is not None:
            self._refresh_bar()

    def _refresh_bar(self) -> None:
        p = self.progress
        if self._tail is not None:
            steps = f"{p.step}/{p.max_steps}" if p.max_steps else f"step {p.step}"
            self._bar.update(self._task, total=p.max_steps, completed=p.step, steps=steps, stats=stats_line(p))
        self._bar.refresh()

    def _plain(self, row: dict) -> None:
        p, kind = self.progress, row.get("type")
        every = max(1, (p.max_steps or PLAIN_LINES) // PLAIN_LINES)
        if kind == "start":
            resumed = f", resumed from step {p.resumed_from}" if p.resumed_from else ""
            self.out.print(f"training: {p.max_steps or '?'} steps{resumed}", highlight=False)
        elif kind == "train" and (p.step - self._printed_step >= every or p.step == p.max_steps):
            self._printed_step = p.step
            self.out.print(f"step {p.step}/{p.max_steps or '?'}  {stats_line(p, reward=False)}", highlight=False)
        elif kind == "reward" and (p.step - self._printed_reward >= every or p.step == p.max_steps):
            self._printed_reward = p.step  # its own line: GRPO logs the reward just after the step's loss
            self.out.print(f"step {p.step}/{p.max_steps or '?'}  {reward_text(p)}", highlight=False)
        elif kind == "eval":
            self.out.print(f"step {p.step}  eval loss {fmt_number(p.eval_loss)}", highlight=False)

    def stop(self) -> None:
        self.tick()
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def show_log_tail(log: Path, lines: int = 20) -> None:
    err = console(stderr=True)
    tail = read_tail(log, lines)
    err.print(f"last {len(tail)} lines of {log}:", highlight=False)
    for line in tail:
        err.print(f"  {line}", markup=False, highlight=False)


def read_tail(log: Path, lines: int) -> list[str]:
    try:
        with open(log, "rb") as handle:
            handle.seek(0, 2)
            handle.seek(max(handle.tell() - 64_000, 0))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return []
    return text.splitlines()[-lines:]


def show_runs(rows: list[dict], root: Path) -> None:
    out = console()
    if not rows:
        out.print(f"no runs under {root} yet; start one with `ftspec run SPEC`", highlight=False)
        return
    table = Table(box=None)
    for name in ("run", "state", "started", "duration", "steps", "final loss", "verdict"):
        table.add_column(name, no_wrap=True)
    styles = {"completed": "green", "failed": "red", "interrupted": "yellow", "running": "cyan"}
    verdicts = {"pass": "green", "fail": "red"}
    for row in rows:
        started = time.strftime("%Y-%m-%d %H:%M", time.localtime(row["started"])) if row["started"] else "-"
        steps = f"{row['steps']}/{row['max_steps']}" if row["max_steps"] else str(row["steps"] or "-")
        state, verdict = row["state"], row["verdict"]
        table.add_row(row["id"], f"[{styles.get(state, 'white')}]{state}[/]", started,
                      fmt_duration(row["duration"]), steps, fmt_number(row["final_loss"]),
                      f"[{verdicts[verdict]}]{verdict}[/]" if verdict in verdicts else verdict)
    if not out.is_terminal:  # a log file has no right edge: never squeeze the ids
        out = console(width=max(out.width, 120))
    out.print(table)
