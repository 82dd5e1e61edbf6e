"""Many jobs in flight on one host: RQ's worker pool of LoopstratWorker processes.

A job mostly waits (Claude drafts for a second or two, Twilio answers in a fraction), so one
process working one job at a time leaves a burst of leads queued behind the network. The pool
forks its processes from a parent that has already imported the jobs and loaded the phone and
ZIP tables, and freezes that heap first (gc.freeze), so the children share it instead of each
holding a copy: the memory a process adds is what its own jobs touch.

The parent also watches its children: one that dies mid-job (killed, out of memory) is no
longer counted as a free process, and its job's outbox claim is made due again at once,
instead of after its silence. When the whole host dies, the dispatcher's sweep finds its jobs
by that silence (workers/liveness.py).
"""

from __future__ import annotations

import gc
import logging
from multiprocessing import get_context
from multiprocessing.process import BaseProcess
from typing import Any

from rq.worker import Worker
from rq.worker_pool import WorkerData, WorkerPool

from loopstrat import outbox, runtime
from loopstrat.runtime import Runtime
from workers.liveness import forget
from workers.queues import parse_claim_job_id
from workers.redis_outage import REDIS_DOWN
from workers.worker import RQ_LOG_LEVEL, LoopstratWorker, RideOutQueue

log = logging.getLogger(__name__)
ForkProcess = get_context("fork").Process


class LoopstratPool(WorkerPool):
    def __init__(self, rt: Runtime, queue_names: list[str], processes: int) -> None:
        super().__init__(
            queue_names,
            connection=rt.redis,
            num_workers=processes,
            worker_class=LoopstratWorker,
            queue_class=RideOutQueue,
        )
        self.rt = rt

    def start(self, burst: bool = False, logging_level: str = RQ_LOG_LEVEL) -> None:
        # Everything loaded so far is shared with the children: the collector must not touch
        # it (a collection writes to every object it visits, which would copy the page).
        gc.freeze()
        super().start(burst=burst, logging_level=logging_level)

    def get_worker_process(
        self, name: str, burst: bool, _sleep: float = 0, logging_level: str = "INFO"
    ) -> BaseProcess:
        # RQ's own target builds a new Redis client and runs RQ's scheduler in each child;
        # ours works on the warmed runtime and leaves scheduling to loopstrat's dispatcher.
        return ForkProcess(target=_work, args=(name, self._queue_names, burst), name=name)

    def handle_dead_worker(self, worker_data: WorkerData) -> None:
        super().handle_dead_worker(worker_data)
        forget(self.rt.redis, worker_data.name, self._queue_names)
        if worker_data.process.exitcode == 0:
            return
        try:
            hand_back_job_of(self.rt, worker_data.name)
        except Exception:  # the database busy or down: the parent must live on to respawn
            log.exception("worker %s died mid-job; its claim goes stale instead", worker_data.name)


def _work(name: str, queue_names: list[str], burst: bool) -> None:
    rt = runtime.current()
    worker = LoopstratWorker(queue_names, name=name, connection=rt.redis)
    worker.work(burst=burst, with_scheduler=False, logging_level=RQ_LOG_LEVEL)


def hand_back_job_of(rt: Runtime, worker_name: str) -> None:
    """The dead worker's job, if it was running one, is due again now. Its text, if it was
    mid-call to Twilio, keeps its own 60 s lease (the next attempt asks Twilio first)."""
    try:
        key = Worker.redis_worker_namespace_prefix + worker_name
        found: Any = Worker.find_by_key(key, rt.redis)
        job_id = found.get_current_job_id() if found else None
    except REDIS_DOWN:
        return  # the dispatcher's lost-job sweep finds it once Redis is back
    claim = parse_claim_job_id(job_id) if job_id else None
    if claim is None:
        return
    with rt.sessions() as session:
        handed_back = outbox.mark_lost(session, [claim])
        session.commit()
    if handed_back:
        # Published here, not by the wake-up thread: the parent forks again, and a fork must
        # not copy a thread's lock mid-use into a child.
        rt.waker.publish_now()
        log.warning("worker %s died mid-job: its job is due again", worker_name)
