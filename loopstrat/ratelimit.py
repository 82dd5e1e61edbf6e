"""Fixed-window request counters in Redis. Fails open: a Redis outage must not lose a lead."""

from __future__ import annotations

import logging
import time

import redis

log = logging.getLogger(__name__)

WINDOW_S = 60


def over_limit(conn: redis.Redis, limits: dict[str, int]) -> int | None:
    """Count one hit against each named limit; the seconds to wait if any is exceeded."""
    window = int(time.time()) // WINDOW_S
    try:
        pipe = conn.pipeline(transaction=False)
        for name in limits:
            key = f"rl:{name}:{window}"
            pipe.incr(key)
            pipe.expire(key, WINDOW_S * 2)
        counts = pipe.execute()[::2]
    except redis.RedisError:
        log.warning("ratelimit redis unavailable; allowing request")
        return None
    for count, limit in zip(counts, limits.values(), strict=True):
        if int(count) > limit:
            return WINDOW_S - int(time.time()) % WINDOW_S
    return None
