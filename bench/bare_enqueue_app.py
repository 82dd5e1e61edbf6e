"""The yardstick for intake throughput: a bare Flask endpoint that does one RQ enqueue.

bench/speed_to_lead.py serves it with the same gunicorn options as Loopstrat's web process and
compares the two. It parses the JSON body, enqueues one job the way workers/queues.py does (same
Redis client options, same enqueue arguments) on a queue no worker reads, and answers 202.
Never stores anything else, never runs the job.
"""

from __future__ import annotations

import os

import redis
from flask import Flask, Response, jsonify, request
from rq import Queue

# No worker listens here: the Loopstrat worker reads `texts` and `crm` only.
QUEUE_NAME = "bench_bare_enqueue"
JOB_PATH = "bare_enqueue_app.accept_lead"


def accept_lead(phone: str) -> None:
    """The job's function. It exists so the job is well-formed; nothing ever runs it."""


def create_app() -> Flask:
    app = Flask(__name__)
    # The same client options as loopstrat.runtime.Runtime.redis, so the enqueue costs the same.
    conn = redis.Redis.from_url(
        os.environ["REDIS_URL"], socket_timeout=5, socket_connect_timeout=2, protocol=2
    )

    @app.post("/leads/<form_key>")
    def post_lead(form_key: str) -> tuple[Response, int]:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return jsonify({"errors": {"body": "is not a JSON object"}}), 400
        job = Queue(QUEUE_NAME, connection=conn).enqueue(
            JOB_PATH,
            str(body.get("phone", "")),
            job_timeout=60,
            result_ttl=300,
            failure_ttl=86400,
            description=f"bench:{form_key}",
        )
        return jsonify({"status": "accepted", "job_id": job.id}), 202

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify({"ok": True})

    return app


app = create_app()
