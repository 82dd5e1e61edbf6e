"""The RQ worker class Loopstrat runs: in-process jobs, and tolerant of fakeredis."""

from __future__ import annotations

from typing import Any

from redis import Redis
from rq import SimpleWorker
from rq.job import Job
from rq.queue import Queue

from loopstrat.logs import mask_personal
from loopstrat.phones import recipient_place
from loopstrat.runtime import Runtime


class LoopstratWorker(SimpleWorker):
    """SimpleWorker: jobs are short and I/O-bound and a fork per job would cost more than the
    job itself; a job that dies with its worker is found by the scheduler's outbox sweep."""

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


def warm_up(rt: Runtime) -> None:
    """Pay the start-up costs before the first job, not during it: importing the jobs (about
    2 s), the phone and ZIP time-zone tables, and the outside-service clients. Otherwise the
    first lead after every deploy is answered seconds late."""
    import workers.jobs  # noqa: F401 - imported for its side effect: RQ finds it loaded

    recipient_place("+18015550142", "84101")
    _ = rt.sms, rt.drafter
