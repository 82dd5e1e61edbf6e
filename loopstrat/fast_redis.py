"""A Redis client for calls a request must never wait on (the intake's rate limits, the
dispatcher's wake-ups): it never retries (redis-py's default retries a refused connection with
backoff for about 4 s), gives up in TIMEOUT_S, and after a failure leaves Redis alone for
SKIP_AFTER_FAILURE_S, so the next calls go on at once instead of each paying the timeout.
"""

from __future__ import annotations

import threading
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

# A local Redis answers in well under a millisecond; a call that takes longer than this is a
# sick Redis, and the caller goes on without it.
TIMEOUT_S = 0.2
SKIP_AFTER_FAILURE_S = 1.0


class FastRedis:
    def __init__(self, redis_url: str) -> None:
        self.client = redis.Redis.from_url(
            redis_url,
            socket_timeout=TIMEOUT_S,
            socket_connect_timeout=TIMEOUT_S,
            retry=Retry(NoBackoff(), 0),
            protocol=2,
        )
        self._lock = threading.Lock()
        self._skip_until = 0.0

    def skipping(self) -> bool:
        """Redis failed a moment ago: do without it for now."""
        return time.monotonic() < self._skip_until

    def failed(self) -> None:
        with self._lock:
            self._skip_until = time.monotonic() + SKIP_AFTER_FAILURE_S

    def close(self) -> None:
        self.client.close()
