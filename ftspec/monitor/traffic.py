"""Seeded production traffic for the demo task (web-shop orders -> JSON), with drift planted on purpose.

For the tests, the benchmark and a demo of `ftspec monitor`: in-distribution requests come from the same generator as
specs/demo's training data (ftspec.demo.orders); from `topic_from` on, a share of requests are about a topic training
never covered (returns and refunds); from `broken_from` on, a share of outputs are cut short (invalid JSON); from
`drop_from` on, fewer users give a thumbs-up.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ftspec.demo.orders import all_orders, render

RETURN_TEMPLATES = (
    "I want to return the {c} {item} I bought last week, it arrived damaged. How do I get a refund?",
    "The {c} {item} I received is faulty, please refund me or send a replacement.",
    "Can I send back my {c} {item}? It does not fit and I would like my money back.",
    "My order of {c} {item} came broken, what is your refund policy for damaged goods?",
    "How long does a refund take after I return a {c} {item}? I posted the parcel yesterday.",
)


@dataclass
class Plan:
    days: int = 42
    per_day: int = 60
    start: str = "2026-01-05"  # a Monday: weeks are windows of 7 days
    topic_from: int | None = None  # the first day of the new topic
    topic_share: float = 0.5
    broken_from: int | None = None
    broken_share: float = 0.3
    drop_from: int | None = None
    thumbs_up: float = 0.9  # the share of rated requests with a thumbs-up before the drop
    thumbs_up_after: float = 0.6
    seed: int = 0


def rows(plan: Plan):
    """One dict per request, in time order."""
    rng = random.Random(plan.seed)
    orders = all_orders()
    start = datetime.fromisoformat(plan.start).replace(tzinfo=UTC)
    for day in range(plan.days):
        for k in range(plan.per_day):
            order = rng.choice(orders)
            moment = start + timedelta(days=day, seconds=int(86_399 * (k + rng.random()) / plan.per_day))
            novel = plan.topic_from is not None and day >= plan.topic_from and rng.random() < plan.topic_share
            if novel:
                prompt = rng.choice(RETURN_TEMPLATES).format(c=order.colour, item=order.item)
            else:
                prompt, _ = render(order, rng)
            output = order.payload()
            if plan.broken_from is not None and day >= plan.broken_from and rng.random() < plan.broken_share:
                output = output[:-rng.randint(2, 12)]
            up = plan.thumbs_up_after if plan.drop_from is not None and day >= plan.drop_from else plan.thumbs_up
            yield {"timestamp": moment.isoformat().replace("+00:00", "Z"), "prompt": prompt, "output": output,
                   "feedback": rng.random() < up, "reference": order.payload(),
                   "latency_ms": round(max(5.0, rng.gauss(120, 25)), 1), "topic": "returns" if novel else "orders"}


def write_traffic(path: Path, plan: Plan) -> int:
    count = 0
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows(plan):
            handle.write(json.dumps(row) + "\n")
            count += 1
    return count
