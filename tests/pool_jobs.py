"""Jobs for the worker pool's tests: run by RQ in the pool's processes, by import path."""

from __future__ import annotations

import time

from loopstrat import runtime

MEET_WAIT_S = 20.0


def meet(key: str, expected: int) -> int:
    """Arrive, then wait for the others: how many had arrived when this one stopped waiting.
    Only jobs running at the same time can all meet."""
    redis = runtime.current().redis
    redis.incr(key)
    deadline = time.monotonic() + MEET_WAIT_S
    while time.monotonic() < deadline:
        arrived = int(redis.get(key) or 0)
        if arrived >= expected:
            return arrived
        time.sleep(0.05)
    return int(redis.get(key) or 0)


def hang() -> None:
    time.sleep(600)


def campaign_like(n: int) -> int:
    """Stands for a campaign text: low urgency, on the bulk queue."""
    return n
