"""The process-wide wiring: settings, database, Redis and the outside-service adapters.

Built once per process on first use (web, worker, scheduler, CLI), never at import time.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from loopstrat.config import Settings, load_settings
from loopstrat.db import make_engine, make_sessionmaker

if TYPE_CHECKING:
    from loopstrat.drafting.drafter import Drafter
    from loopstrat.leads.intake_accounts import IntakeAccounts
    from loopstrat.ratelimit import Limiter
    from loopstrat.sms.gateway import SmsGateway
    from loopstrat.wake import Waker


@dataclass
class Runtime:
    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_sessionmaker(self.engine)

    @cached_property
    def redis(self) -> redis.Redis:
        # RESP2: redis-py 8 defaults to RESP3, which fakeredis's TCP server (the `make run`
        # Redis without redis-server) mishandles under a blocking worker; RQ needs nothing newer.
        return redis.Redis.from_url(
            self.settings.redis_url, socket_timeout=5, socket_connect_timeout=2, protocol=2
        )

    @cached_property
    def limiter(self) -> Limiter:
        """The intake's rate limits, on a client of their own that fails in a fifth of a
        second: `redis` above waits up to 5 s, which a lead post must never do."""
        from loopstrat.ratelimit import Limiter

        return Limiter(self.settings.redis_url)

    @cached_property
    def waker(self) -> Waker:
        """Wakes the dispatcher after a commit that made work due (loopstrat/wake.py)."""
        from loopstrat.wake import Waker

        return Waker(self.settings.redis_url)

    @cached_property
    def sms(self) -> SmsGateway:
        from loopstrat.sms.gateway import make_gateway

        return make_gateway(self.settings)

    @cached_property
    def drafter(self) -> Drafter | None:
        from loopstrat.drafting.drafter import make_drafter

        return make_drafter(self.settings)

    @cached_property
    def intake_accounts(self) -> IntakeAccounts:
        from loopstrat.leads.intake_accounts import IntakeAccounts

        return IntakeAccounts(self.sessions)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
        if "redis" in self.__dict__:
            self.redis.close()
        if "limiter" in self.__dict__:
            self.limiter.close()
        if "waker" in self.__dict__:
            self.waker.close()


_lock = threading.Lock()
_current: Runtime | None = None


def configure(settings: Settings | None = None) -> Runtime:
    """Replace the process runtime (tests, app factory, CLI)."""
    global _current
    with _lock:
        if _current is not None:
            _current.close()
        _current = Runtime(settings or load_settings())
        return _current


def current() -> Runtime:
    """The process runtime, built from the environment on first use (worker processes)."""
    global _current
    if _current is None:
        with _lock:
            if _current is None:
                _current = Runtime(load_settings())
    return _current


def _after_fork_in_child() -> None:
    """A forked child (a worker pool's process) must not use its parent's database sockets:
    its pool forgets them without closing them under the parent. Redis clients reconnect by
    themselves (redis-py checks the process id)."""
    if _current is not None and "engine" in _current.__dict__:
        _current.engine.dispose(close=False)


os.register_at_fork(after_in_child=_after_fork_in_child)
