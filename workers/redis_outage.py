"""Riding out a Redis outage: wait with capped backoff until Redis answers again, then carry on.

Logs an outage once when it starts and once when it ends. Never gives up and never ends the
process: Redis is transport, and the database keeps the work until Redis is back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis

log = logging.getLogger(__name__)

# What a Redis that is down, restarting or unreachable raises (redis-py has already retried
# the command about ten times over a couple of seconds by then).
REDIS_DOWN: tuple[type[Exception], ...] = (redis.ConnectionError, redis.TimeoutError)
FIRST_PAUSE_S = 0.1
MAX_PAUSE_S = 2.0


class RedisOutage:
    """One process's view of Redis being down: at most one outage at a time."""

    def __init__(self, process: str) -> None:
        self.process = process
        self.since: float | None = None

    def ride_out(
        self, connection: redis.Redis, error: Exception, stopping: Callable[[], bool]
    ) -> bool:
        """Wait until Redis answers a PING (True, the pool has reconnected) or `stopping()`
        says the process is shutting down (False)."""
        if self.since is None:
            self.since = time.monotonic()
            log.warning("redis unreachable process=%s error=%r", self.process, str(error)[:200])
        pause_s = FIRST_PAUSE_S
        while not stopping():
            try:
                connection.ping()
            except REDIS_DOWN:
                time.sleep(pause_s)
                pause_s = min(pause_s * 2, MAX_PAUSE_S)
                continue
            self.end()
            return True
        return False

    def end(self) -> None:
        if self.since is not None:
            down_s = time.monotonic() - self.since
            log.warning("redis reachable again process=%s down_s=%.1f", self.process, down_s)
            self.since = None


def wait_for_redis(connection: redis.Redis, process: str) -> None:
    """Start-up: a process started while Redis is down waits for it instead of exiting."""
    try:
        connection.ping()
    except REDIS_DOWN as exc:
        RedisOutage(process).ride_out(connection, exc, stopping=lambda: False)
