"""The reward curve of an online-RL run (grpo): the mean reward of each logging step's sampled answers, as
objectives/grpo.py.j2 writes it into train_log.jsonl. report.json carries its summary (`reward_curve`), report.md
one line, report.html the curve drawn as an SVG polyline."""

from __future__ import annotations

from ftspec.evals.gates import fmt
from ftspec.evals.runs import TrainLog

_W, _H, _PAD = 960, 220, 56


def reward_summary(log: TrainLog) -> dict | None:
    """{points, first, last, lowest, highest, steps}, or None for a run that logged no reward."""
    if not log.reward:
        return None
    rewards = [r for _, r in log.reward]
    return {"points": [[s, r] for s, r in log.reward], "steps": len(rewards), "first": log.reward[0],
            "last": log.reward[-1], "lowest": min(rewards), "highest": max(rewards)}


def reward_markdown(report: dict) -> list[str]:
    curve = report.get("reward_curve")
    if not curve:
        return []
    (s0, r0), (s1, r1) = curve["first"], curve["last"]
    return [f"**Reward curve:** mean reward {fmt(r0)} at step {s0} → {fmt(r1)} at step {s1} "
            f"({curve['steps']} logging steps; lowest {fmt(curve['lowest'])}, highest {fmt(curve['highest'])})", ""]


def reward_svg(report: dict) -> str:
    """The curve as inline SVG (numbers only, nothing from the spec), or "" without one."""
    curve = report.get("reward_curve")
    if not curve:
        return ""
    steps, rewards = [s for s, _ in curve["points"]], [r for _, r in curve["points"]]
    x0, x1 = min(steps), max(steps) if max(steps) > min(steps) else min(steps) + 1
    y0, y1 = curve["lowest"], curve["highest"] if curve["highest"] > curve["lowest"] else curve["lowest"] + 1e-9

    def x(step):
        return round(_PAD + (step - x0) / (x1 - x0) * (_W - 2 * _PAD), 1)

    def y(value):
        return round(_H - _PAD - (value - y0) / (y1 - y0) * (_H - 2 * _PAD), 1)

    points = " ".join(f"{x(s)},{y(r)}" for s, r in zip(steps, rewards, strict=True))
    return (f'<h2>Reward curve</h2>\n<p>{reward_markdown(report)[0].replace("**", "")}</p>\n'
            f'<svg id="reward-curve" xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" '
            f'viewBox="0 0 {_W} {_H}" role="img" aria-label="mean reward by step">\n'
            f'<text x="{_PAD - 4}" y="{y(y1)}" font-size="11" text-anchor="end">{fmt(y1)}</text>\n'
            f'<text x="{_PAD - 4}" y="{y(y0)}" font-size="11" text-anchor="end">{fmt(y0)}</text>\n'
            f'<text x="{x(x0)}" y="{_H - _PAD + 16}" font-size="11" text-anchor="middle">{x0}</text>\n'
            f'<text x="{x(max(steps))}" y="{_H - _PAD + 16}" font-size="11" text-anchor="middle">{max(steps)}</text>\n'
            f'<polyline class="reward" fill="none" stroke="#7c3aed" stroke-width="2" points="{points}">'
            f'<title>mean reward</title></polyline>\n</svg>\n')
