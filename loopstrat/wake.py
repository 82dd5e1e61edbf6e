"""Waking the dispatcher: a commit that makes outbox work due (or moves when it is due) says so
on a Redis channel, so the scheduler claims it at once and otherwise sleeps.

The request thread only sets a flag; a thread of the process publishes, one message for any
number of commits since its last (and at most one per SPACING_S), on a FastRedis (no retries,
0.2 s, then skipped a while). A lost wake-up costs time, never work: the scheduler still
polls, slowly (workers/scheduler.py).
"""

from __future__ import annotations

import logging
import os
import threading
import time

import redis
from sqlalchemy import event
from sqlalchemy.orm import Session

from loopstrat import runtime
from loopstrat.background import start_thread
from loopstrat.fast_redis import FastRedis

log = logging.getLogger(__name__)

CHANNEL = "loopstrat:outbox-due"
# After a wake-up, commits for this long ride on the next one: at hundreds of posts a second a
# publish per post cost the web process a fifth of its throughput; this costs a lead at most
# 10 ms, and a lone lead nothing.
SPACING_S = 0.01
# Set on a session by outbox.schedule/hurry/postpone/retry_later; read once it commits.
PENDING = "loopstrat_wake"


class Waker:
    def __init__(self, redis_url: str) -> None:
        self._fast = FastRedis(redis_url)
        self._due = threading.Event()
        self._lock = threading.Lock()
        self._thread_pid: int | None = None
        self._closed = False

    def wake(self) -> None:
        """Ask for a wake-up soon; returns at once."""
        self._start_once()
        self._due.set()

    def publish_now(self) -> bool:
        """One wake-up, in the caller's thread; False when Redis could not take it. After a
        failure Redis is left alone for a while: the scheduler's slow poll finds the work."""
        if self._fast.skipping():
            return False
        try:
            self._fast.client.publish(CHANNEL, b"1")
        except redis.RedisError:
            self._fast.failed()
            return False
        return True

    def _start_once(self) -> None:
        # Per process: a thread does not survive a fork (gunicorn's workers, the pool's).
        if self._thread_pid == os.getpid():
            return
        with self._lock:
            if self._thread_pid != os.getpid():
                start_thread(self._publish_forever, "wake")
                self._thread_pid = os.getpid()

    def _publish_forever(self) -> None:
        while True:
            self._due.wait()
            self._due.clear()
            if self._closed:
                return
            try:
                self.publish_now()
            except Exception:  # the client closed under the publish: any error may come
                if self._closed:
                    return
                log.exception("wake-up not published")
            time.sleep(SPACING_S)

    def close(self) -> None:
        self._closed = True
        self._due.set()
        self._fast.close()


def note_due(session: Session) -> None:
    """The session's commit will make outbox work due, or change when it is."""
    session.info[PENDING] = True


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(PENDING, False):
        _wake_current()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING, None)


def _wake_current() -> None:
    runtime.current().waker.wake()
