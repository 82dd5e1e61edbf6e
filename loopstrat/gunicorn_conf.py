"""gunicorn settings for the Procfile's `web` line (`-c python:loopstrat.gunicorn_conf`).

Server tuning only, no imports of the app; the process count stays gunicorn's own
WEB_CONCURRENCY (1 if unset).
"""

# Eight threads per process: a lead post waits on two round trips (Redis, then the database),
# and with four a process sat idle in them: the intake on PostgreSQL measured 8-12% slower
# against the bare endpoint (bench/speed_to_lead.py --database).
worker_class = "gthread"
threads = 8
# A process whose main loop has not checked in for this long is killed and replaced (the
# gthread loop checks in every second, whatever its threads are doing).
timeout = 30
# On SIGTERM a process finishes what it holds within this; Heroku kills at 30 s.
graceful_timeout = 20
# Longer than the longest Retry-After the intake gives (60 s, the end of a rate window) and than
# a load balancer's usual idle timeout (60 s): a client that waits as told and retries on the
# same connection is answered, instead of finding it closed (gunicorn's default is 2 s).
keepalive = 75
# Restart each process after about this many requests, jittered so processes do not restart
# together: bounds whatever a long-lived process accumulates. A restart pauses intake while the
# old process lets go and the new one starts (posts wait in the listen queue, none is lost);
# with one process measured at up to 1.7 s, once per 20,000 requests.
max_requests = 20_000
max_requests_jitter = 2_000
# Import the app once in the master and fork it: a restarted process is ready in milliseconds
# instead of re-importing for a second or two (measured, 16 clients posting through restarts
# every 300 requests: slowest answer 4.2 s without, 1.7 s with). The app opens no connection
# at import (the runtime builds its engine and Redis clients on first use, in each process).
preload_app = True
# gunicorn 27's control socket at its default path: one server would unlink another's.
control_socket_disable = True
accesslog = "-"
