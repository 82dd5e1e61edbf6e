"""Fixed-window request counters in Redis, on their own fast-failing connection.

Fails open and fails fast: a slow or absent Redis must neither lose a lead nor hold a post,
so a count waits at most LIMITER_TIMEOUT_S and, after a failure, Redis is skipped for a while.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

WINDOW_S = 60
# A local Redis answers in well under a millisecond; a count that takes longer than this is
# a sick Redis, and the post goes on without it.
LIMITER_TIMEOUT_S = 0.2
# After a failure the next posts skip Redis at once instead of each paying the timeout.
SKIP_AFTER_FAILURE_S = 1.0


class Limiter:
    """Counts hits per named limit. Its client never retries (redis-py's default retries a
    refused connection with backoff for about 4 s) and times out in LIMITER_TIMEOUT_S."""

    def __init__(self, redis_url: str) -> None:
        self._redis = redis.Redis.from_url(
            redis_url,
            socket_timeout=LIMITER_TIMEOUT_S,
            socket_connect_timeout=LIMITER_TIMEOUT_S,
            retry=Retry(NoBackoff(), 0),
            protocol=2,
        )
        self._lock = threading.Lock()
        self._skip_until = 0.0

    def count(self, names: Sequence[str]) -> list[int] | None:
        """Count one hit against each name in this window; None when Redis cannot say."""
        if time.monotonic() < self._skip_until:
            return None
        window = int(time.time()) // WINDOW_S
        try:
            pipe = self._redis.pipeline(transaction=False)
            for name in names:
                key = f"rl:{name}:{window}"
                pipe.incr(key)
                pipe.expire(key, WINDOW_S * 2)
            counts = pipe.execute()[::2]
        except redis.RedisError as exc:
            with self._lock:
                self._skip_until = time.monotonic() + SKIP_AFTER_FAILURE_S
            log.warning(
                "ratelimit redis unavailable error=%s; allowing requests", type(exc).__name__
            )
            return None
        return [int(c) for c in counts]

    def ping(self) -> bool:
        try:
            return bool(self._redis.ping())
        except redis.RedisError:
            return False

    def close(self) -> None:
        self._redis.close()


def retry_after_s() -> int:
    """Seconds until the current window ends and every count starts again."""
    return WINDOW_S - int(time.time()) % WINDOW_S
