"""Which worker processes are alive, and that their running jobs still are: beats in Redis,
read by the dispatcher.

RQ's own signs of life are too slow to act on: a SimpleWorker sends no heartbeat while its job
runs, and a job killed with its worker stays "started" until RQ's maintenance, minutes on. So
each worker process beats from a thread of its own every BEAT_S: its name in the live set of
each queue it serves, and its running job's `last_heartbeat`. A process killed outright
(SIGKILL, out of memory, its host lost) stops beating with it: its entries age out after
LIVE_FOR_S, and the dispatcher judges its job lost (workers/queues.py). Decides nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from redis import Redis
from rq.job import Job
from rq.utils import now, utcformat

from loopstrat.background import start_thread
from workers.redis_outage import REDIS_DOWN

log = logging.getLogger(__name__)

BEAT_S = 3.0
# A process not heard of for this long is dead: five beats missed, so a busy Redis or a long
# garbage collection is not taken for a death.
LIVE_FOR_S = 15.0


def live_key(queue_name: str) -> str:
    """A sorted set: each live worker process serving the queue, scored by its last beat."""
    return f"loopstrat:workers:{queue_name}:live"


class Heartbeat:
    """Beats for one worker process while it works: started and stopped by LoopstratWorker,
    told by it when a job starts and ends."""

    def __init__(self, connection: Redis, worker_name: str, queue_names: Sequence[str]) -> None:
        self.connection = connection
        self.worker_name = worker_name
        self.queue_names = list(queue_names)
        self.job_id: str | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping.clear()
        self.beat()  # live from its first moment: the dispatcher counts it now
        self._thread = start_thread(self._run, "heartbeat")

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=BEAT_S * 2)
        forget(self.connection, self.worker_name, self.queue_names)

    def job_started(self, job_id: str) -> None:
        self.job_id = job_id
        self.beat()

    def job_ended(self) -> None:
        self.job_id = None

    def beat(self) -> None:
        stamp, job_id = time.time(), self.job_id
        try:
            with self.connection.pipeline(transaction=False) as pipe:
                for name in self.queue_names:
                    pipe.zadd(live_key(name), {self.worker_name: stamp})
                if job_id is not None:
                    # The job's hash outlives the job by its result_ttl: this never leaves a
                    # stray hash behind a job that has just ended.
                    pipe.hset(Job.key_for(job_id), "last_heartbeat", utcformat(now()))
                pipe.execute()
        except REDIS_DOWN:
            pass  # the worker's own loop rides the outage out and logs it once

    def _run(self) -> None:
        while not self._stopping.wait(BEAT_S):
            try:
                self.beat()
            except Exception:  # a beat must never take its worker down
                log.exception("heartbeat failed")


def forget(connection: Redis, worker_name: str, queue_names: Sequence[str]) -> None:
    """A process gone (stopped, or seen dead by its pool): no longer counted."""
    try:
        with connection.pipeline(transaction=False) as pipe:
            for name in queue_names:
                pipe.zrem(live_key(name), worker_name)
            pipe.execute()
    except REDIS_DOWN:
        pass  # the entries age out by themselves


def live_processes(connection: Redis, queue_names: Sequence[str]) -> dict[str, int]:
    """How many worker processes serving each queue beat within LIVE_FOR_S; older entries
    are forgotten here."""
    since = time.time() - LIVE_FOR_S
    with connection.pipeline(transaction=False) as pipe:
        for name in queue_names:
            pipe.zremrangebyscore(live_key(name), "-inf", since)
            pipe.zcard(live_key(name))
        counts = pipe.execute()[1::2]
    return {name: int(n) for name, n in zip(queue_names, counts, strict=True)}
