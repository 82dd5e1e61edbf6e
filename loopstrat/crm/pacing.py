"""Airtable's rate limit, shared by every worker through Redis: at most 5 requests in any second
per base, and after a 429 the whole base waits 30 s, as Airtable asks.

Times come from the caller (the app clock), so tests move time instead of sleeping; Redis key
TTLs only clean up. Never sleeps itself: it says how long to wait and the caller decides.
"""

from __future__ import annotations

import time
import uuid

import redis

# Airtable: "5 requests per second per base ... If you exceed this rate, you will receive a 429
# status code and will need to wait 30 seconds before subsequent requests will succeed."
REQUESTS_PER_WINDOW = 5
# A little over a second: what we log as a request's time is a few ms before it reaches Airtable.
WINDOW_S = 1.05
PAUSE_AFTER_429_S = 30.0


def _log_key(base_id: str) -> str:
    return f"crm:pace:{base_id}"


def _pause_key(base_id: str) -> str:
    return f"crm:paused:{base_id}"


class BaseLimiter:
    """A sliding log of the last requests per base (a Redis sorted set, optimistic WATCH/MULTI:
    no Lua, so the fakeredis of `make run` works too)."""

    def __init__(
        self, conn: redis.Redis, per_window: int = REQUESTS_PER_WINDOW, window_s: float = WINDOW_S
    ) -> None:
        self.conn = conn
        self.per_window = per_window
        self.window_s = window_s

    def try_acquire(self, base_id: str, now: float) -> float:
        """Take a request slot now (0.0), or the seconds until one frees up (nothing taken)."""
        paused = self.paused_for(base_id, now)
        if paused > 0:
            return paused
        key = _log_key(base_id)
        with self.conn.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)  # type: ignore[no-untyped-call]
                    entries: list[tuple[bytes, float]] = pipe.zrangebyscore(  # type: ignore[assignment]
                        key, now - self.window_s, "+inf", withscores=True
                    )
                    recent = [float(score) for _, score in entries]
                    if len(recent) >= self.per_window:
                        pipe.unwatch()
                        return max(0.001, sorted(recent)[-self.per_window] + self.window_s - now)
                    pipe.multi()
                    pipe.zremrangebyscore(key, "-inf", now - self.window_s)
                    pipe.zadd(key, {uuid.uuid4().hex: now})
                    pipe.expire(key, 60)
                    pipe.execute()
                    return 0.0
                except redis.WatchError:
                    continue  # another worker took a slot meanwhile: look again

    def pause(self, base_id: str, now: float, seconds: float = PAUSE_AFTER_429_S) -> float:
        """After a 429: nobody calls this base until the returned time."""
        until = now + seconds
        self.conn.set(_pause_key(base_id), repr(until), ex=int(seconds) + 60)
        return until

    def paused_for(self, base_id: str, now: float) -> float:
        raw = self.conn.get(_pause_key(base_id))
        if raw is None:
            return 0.0
        return max(0.0, float(raw) - now)


def wall_clock() -> float:
    """time.time, read through the module so time-machine moves it in tests."""
    return time.time()
