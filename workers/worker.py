"""The RQ worker class Loopstrat runs: in-process jobs, beats while alive, and a Redis outage
ridden out, not died of.

A worker must never exit because Redis went away or came back empty: it waits, reconnects and
carries on; a job whose end Redis missed is found again by the scheduler from the outbox. Each
job it takes and each it ends wakes the dispatcher, which hands out work only as processes
take it (docs/dispatch.md).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import redis
from redis import Redis
from rq import Queue, SimpleWorker
from rq.exceptions import DequeueTimeout
from rq.job import Job
from sqlalchemy.orm import configure_mappers

from loopstrat import runtime
from loopstrat.background import signals_to_main_thread
from loopstrat.logs import mask_personal
from loopstrat.models import Account, Contact, Lead, Message, Outbox
from loopstrat.phones import recipient_place
from loopstrat.runtime import Runtime
from workers.liveness import Heartbeat
from workers.redis_outage import REDIS_DOWN, RedisOutage

log = logging.getLogger(__name__)

PUBSUB_RETRY_S = 2.0
# RQ's own lines (each process's start, registries cleaned, "Job OK") at INFO are some hundred
# lines a minute from a pool, burying `make run`'s welcome; the jobs log what they did.
RQ_LOG_LEVEL = "WARNING"
Method = TypeVar("Method", bound=Callable[..., Any])


class RideOutQueue(Queue):
    """A wait for a job cut short by Redis going away counts as an empty wait: RQ then sends a
    heartbeat, which rides the outage out (RQ's own retry would log every attempt)."""

    @classmethod
    def dequeue_any(cls, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().dequeue_any(*args, **kwargs)
        except REDIS_DOWN as exc:
            raise DequeueTimeout from exc


def _rides_out(method: Method) -> Method:
    """RQ's work loop ends on any Redis error these raise ("found an unhandled exception,
    quitting"), and its teardown then dies on the same error: catch it here instead."""

    @functools.wraps(method)
    def riding_out(self: LoopstratWorker, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except REDIS_DOWN as exc:
            self.ride_out(exc)
            return None

    return riding_out  # type: ignore[return-value]


class LoopstratWorker(SimpleWorker):
    """SimpleWorker: jobs are short and I/O-bound and a fork per job would cost more than the
    job itself; a job that dies with its worker is found by the scheduler's outbox sweep."""

    queue_class = RideOutQueue

    # Every Redis call RQ's work loop makes outside its own dequeue retry.
    heartbeat = _rides_out(SimpleWorker.heartbeat)
    set_state = _rides_out(SimpleWorker.set_state)
    check_for_suspension = _rides_out(SimpleWorker.check_for_suspension)
    run_maintenance_tasks = _rides_out(SimpleWorker.run_maintenance_tasks)

    def __init__(self, queues: Sequence[Queue | str], **kwargs: Any) -> None:
        # By name: RQ builds them as RideOutQueue, on the worker's connection.
        names = [q.name if isinstance(q, Queue) else q for q in queues]
        super().__init__(names, **kwargs)
        self.outage = RedisOutage("worker")
        self.beats = Heartbeat(self.connection, self.name, names)

    def work(self, *args: Any, **kwargs: Any) -> bool:
        self.beats.start()
        _slot_changed()  # a process more: the dispatcher may hand it work at once
        try:
            return bool(super().work(*args, **kwargs))
        finally:
            self.beats.stop()

    @_rides_out
    def execute_job(self, job: Job, queue: Queue) -> None:
        # A job whose start or end Redis missed: its outbox row is the truth, and the
        # scheduler hands it out again if the job's work was not done.
        self.beats.job_started(job.id)
        try:
            super().execute_job(job, queue)
        finally:
            self.beats.job_ended()
            _slot_changed()  # a process free: the dispatcher hands out the next turn

    def subscribe(self) -> None:
        # RQ's command listener is a thread: it must not take the stop signals (background.py).
        with signals_to_main_thread():
            super().subscribe()  # type: ignore[no-untyped-call]

    def ride_out(self, error: Exception) -> None:
        while self.outage.ride_out(self.connection, error, lambda: self._stop_requested):
            try:
                self._register_again()
                return
            except REDIS_DOWN as again:
                error = again

    def _register_again(self) -> None:
        """A Redis that came back empty forgot this worker: `rq info` should see it again."""
        if not self.connection.exists(self.key):
            self.register_birth()  # type: ignore[no-untyped-call]

    def set_shutdown_requested_date(self) -> None:
        # Called from the SIGTERM handler: Redis being down must not turn a warm stop into
        # a crash; the stop flag is already set.
        try:
            super().set_shutdown_requested_date()  # type: ignore[no-untyped-call]
        except REDIS_DOWN:
            pass

    def teardown(self) -> None:
        try:
            super().teardown()  # type: ignore[no-untyped-call]
        except REDIS_DOWN:
            log.info("worker stopped without deregistering: redis unreachable")

    def _pubsub_exception_handler(self, exc: Exception, pubsub: Any, pubsub_thread: Any) -> None:
        # RQ's handler logs an error every 2 s of an outage; the work loop logs it once.
        if isinstance(exc, redis.ConnectionError):
            time.sleep(PUBSUB_RETRY_S)
            return
        super()._pubsub_exception_handler(exc, pubsub, pubsub_thread)

    def _set_ip_address(self, connection: Redis) -> None:
        try:
            super()._set_ip_address(connection)
        except ValueError:
            # fakeredis's TCP server (the `make run` Redis when redis-server is absent) answers
            # CLIENT INFO with "addr=('127.0.0.1', 5000)", which redis-py cannot parse.
            self.ip_address = "unknown"

    def handle_job_failure(
        self,
        job: Job,
        queue: Queue,
        started_job_registry: Any = None,
        exc_string: str = "",
        execution: Any = None,
    ) -> None:
        # RQ keeps a failed job's traceback in Redis (a year by default) and hands it to job
        # webhooks: it gets the same masks as a log line.
        super().handle_job_failure(
            job, queue, started_job_registry, mask_personal(exc_string), execution
        )


def _slot_changed() -> None:
    """Wake the dispatcher (from the wake-up thread: returns at once, never raises for Redis);
    a wake-up lost costs at most its one-second poll."""
    runtime.current().waker.wake()


def warm_up(rt: Runtime) -> None:
    """Pay the start-up costs before the first job, not during it: importing the jobs (about
    2 s), the phone and ZIP time-zone tables, the outside-service clients, SQLAlchemy's mapper
    set-up and its compiled lookups by id (most of a job's statements). Otherwise the first
    lead after every deploy is answered seconds late; in a pool, where the parent warms once
    for every process, the first lead each process takes."""
    import workers.jobs  # noqa: F401 - imported for its side effect: RQ finds it loaded

    recipient_place("+18015550142", "84101")
    _ = rt.sms, rt.drafter
    configure_mappers()
    with rt.sessions() as session:
        for model in (Account, Contact, Lead, Message, Outbox):
            session.get(model, 0)
