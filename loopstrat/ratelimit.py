"""Fixed-window request counters in Redis, on their own fast-failing connection.

Fails open and fails fast: a slow or absent Redis must neither lose a lead nor hold a post,
so a count runs on a FastRedis (loopstrat/fast_redis.py): 0.2 s at most, then skipped a while.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import redis

from loopstrat.fast_redis import FastRedis

log = logging.getLogger(__name__)

WINDOW_S = 60


class Limiter:
    """Counts hits per named limit, on a FastRedis: no retries, 0.2 s, then skipped a while."""

    def __init__(self, redis_url: str) -> None:
        self._fast = FastRedis(redis_url)

    def count(self, names: Sequence[str]) -> list[int] | None:
        """Count one hit against each name in this window; None when Redis cannot say."""
        if self._fast.skipping():
            return None
        window = int(time.time()) // WINDOW_S
        try:
            pipe = self._fast.client.pipeline(transaction=False)
            for name in names:
                key = f"rl:{name}:{window}"
                pipe.incr(key)
                pipe.expire(key, WINDOW_S * 2)
            counts = pipe.execute()[::2]
        except redis.RedisError as exc:
            self._fast.failed()
            log.warning(
                "ratelimit redis unavailable error=%s; allowing requests", type(exc).__name__
            )
            return None
        return [int(c) for c in counts]

    def ping(self) -> bool:
        try:
            return bool(self._fast.client.ping())
        except redis.RedisError:
            return False

    def close(self) -> None:
        self._fast.close()


def retry_after_s() -> int:
    """Seconds until the current window ends and every count starts again."""
    return WINDOW_S - int(time.time()) % WINDOW_S
