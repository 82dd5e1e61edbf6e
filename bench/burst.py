"""Burst benchmark: many leads at once while Claude takes its time, on the processes `make run`
starts (web, the worker pool, scheduler), against local stand-ins of Twilio and of
Anthropic's Messages API (each draft takes 1.5 s).

Two scenarios, each 60 leads posted over 6 s from 60 addresses to 20 accounts:
  burst           the queues otherwise empty;
  burst+backlog   the same while 5,000 campaign-like jobs wait on the bulk queue.
A lead's figure is the stand-in Twilio's arrival time of its text minus its received_at.
Targets: p90 under 5 s, none over the 8 s drafting budget, each lead texted exactly once, and
the worker processes' memory (proportional set size, summed, at its peak) under 1 GB.
SQLite by default; `--database postgresql+psycopg://...` (its public schema is dropped first).
Prints each figure beside its target, a verdict last; exit 1 on a miss, 2 if it cannot run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from anthropic_standin import AnthropicStandIn
from rq.rate_limit import RateLimitRegistry
from speed_to_lead import (
    BIN,
    HOST,
    Place,
    Processes,
    SetupError,
    _flush,
    child_env,
    find_redis,
    free_port,
    fresh_database,
    lead_bodies,
    lead_times,
    percentile,
    phones_in,
    place_in_window,
    run_cli,
    start_web,
)
from twilio_standin import TwilioStandIn

from loopstrat import runtime
from loopstrat.config import load_settings
from workers.queues import BULK_QUEUE, queue, slots_for

LEADS, ACCOUNTS, OVER_S = 60, 20, 6.0
BACKLOG = 5000
P90_MAX_S = 5.0
MAX_S = 8.0  # the drafting budget
MEMORY_MAX_MB = 1024.0
READY_TIMEOUT_S = 60.0
DRAIN_TIMEOUT_S = 90.0


@dataclass
class Run:
    procs: Processes
    twilio: TwilioStandIn
    claude: AnthropicStandIn
    env: dict[str, str]
    db_url: str
    web_port: int
    place: Place
    paths: list[str]
    peak_mb: float = 0.0
    sampling: threading.Event = field(default_factory=threading.Event)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=None, help="a PostgreSQL URL; SQLite if not given")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (DB and logs)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = Path(tempfile.mkdtemp(prefix="loopstrat-burst-"))
    procs, twilio, claude = Processes(tmp), TwilioStandIn(), AnthropicStandIn()
    redis_url = ""
    try:
        redis_url = find_redis(procs)
        run = start(args, procs, twilio, claude, tmp, redis_url)
        figures = [*scenario(run, "burst", 0), *with_backlog(run, redis_url)]
        return report(figures, run)
    except SetupError as exc:
        print(f"burst: cannot run: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        procs.stop_all()
        twilio.close()
        claude.close()
        if redis_url:
            _flush(redis_url)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def start(
    args: argparse.Namespace,
    procs: Processes,
    twilio: TwilioStandIn,
    claude: AnthropicStandIn,
    tmp: Path,
    redis_url: str,
) -> Run:
    place, worker_clock = place_in_window(datetime.now(UTC))
    _flush(redis_url)
    db_url = fresh_database(args.database, tmp)
    web_port = free_port()
    env = child_env(db_url, redis_url, twilio.base_url, web_port)
    # Claude drafts every first reply, at the stand-in's pace; each visitor has an address.
    env.update(ANTHROPIC_API_KEY="bench-key", ANTHROPIC_BASE_URL=claude.base_url)
    env.update(TRUSTED_PROXY_HOPS="1")
    run_cli(["migrate"], env, tmp)
    paths = [f"/leads/{key}" for key in create_accounts(env, tmp, place)]
    start_web(procs, "web", "loopstrat.wsgi:app", web_port, env)
    if worker_clock is None:
        procs.start("worker", [str(BIN / "loopstrat"), "worker"], env)
    else:
        daytime = [sys.executable, str(Path(__file__).parent / "daytime_worker.py")]
        procs.start("worker", [*daytime, worker_clock.isoformat()], env)
    procs.start("scheduler", [str(BIN / "loopstrat"), "scheduler"], env)
    run = Run(procs, twilio, claude, env, db_url, web_port, place, paths)
    kind = db_url.split(":", 1)[0]
    print(f"burst: {LEADS} leads over {OVER_S:.0f} s to {ACCOUNTS} accounts, each draft "
          f"{claude.draft_s} s; {kind}; leads in {place.where}")  # fmt: skip
    warm_up(run)
    threading.Thread(target=sample_memory, args=(run,), daemon=True).start()
    return run


def create_accounts(env: dict[str, str], tmp: Path, place: Place) -> list[str]:
    keys = []
    for n, number in enumerate(phones_in("385", ACCOUNTS)):
        options = {"--name": f"Bench Plumbing {n}", "--trade": "plumbing",
                   "--timezone": place.zone, "--twilio-number": number,
                   "--zips": place.zip or ""}  # fmt: skip
        made = run_cli(["create-account", "--json", *(p for kv in options.items() for p in kv)],
                       env, tmp)  # fmt: skip
        keys.append(json.loads(made)["form_key"])
    return keys


def warm_up(run: Run) -> None:
    """A few leads first: the pool started and the web processes opened their connections."""
    phones = list(phones_in(run.place.area_code, 5))
    for i, body in enumerate(lead_bodies(run.place, phones)):
        post(run, run.paths[i % ACCOUNTS], body, f"10.9.0.{i + 1}")
    if run.twilio.wait_for(phones, READY_TIMEOUT_S):
        raise SetupError(f"no text in {READY_TIMEOUT_S:.0f} s:\n{run.procs.tail('worker')}")


def post(run: Run, path: str, body: bytes, address: str) -> int:
    conn = http.client.HTTPConnection(HOST, run.web_port, timeout=30)
    try:
        headers = {"Content-Type": "application/json", "X-Forwarded-For": address}
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return 0
    finally:
        conn.close()


def scenario(run: Run, name: str, offset: int) -> list[tuple[str, float, float, str]]:
    """Post the burst (each lead on its own schedule, as independent visitors), wait for every
    text, and read each lead's time from received_at to its text reaching Twilio."""
    phones = list(phones_in(run.place.area_code, 5 + offset + LEADS))[5 + offset :]
    bodies = lead_bodies(run.place, phones)
    statuses: list[int] = []
    t0 = time.monotonic()

    def one(i: int) -> None:
        time.sleep(max(0.0, t0 + i * OVER_S / LEADS - time.monotonic()))
        address = f"10.{offset // 200 + 1}.{i // 200}.{i % 200 + 1}"
        statuses.append(post(run, run.paths[i % ACCOUNTS], bodies[i], address))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(LEADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    missing = run.twilio.wait_for(phones, DRAIN_TIMEOUT_S)
    arrivals = run.twilio.arrivals
    waits = [arrivals[p][0] - got.timestamp() for p, got, _ in lead_times(run.db_url, phones)
             if p in arrivals]  # fmt: skip
    twice = sum(len(arrivals.get(p, ())) > 1 for p in phones)
    accepted = statuses.count(202)
    return [
        (f"{name}: p90 post to Twilio", percentile(waits, 90, LEADS), P90_MAX_S, "s"),
        (f"{name}: slowest", percentile(waits, 100, LEADS), MAX_S, "s"),
        (f"{name}: not texted, texted twice", float(missing + twice), 0.5, "leads"),
        (f"{name}: posts refused", float(LEADS - accepted), 0.5, "posts"),
    ]


def with_backlog(run: Run, redis_url: str) -> list[tuple[str, float, float, str]]:
    """The same burst with campaign-like work queued: each job held to the bulk queue's share
    of the pool by the product's own limit (workers/queues.slots_for)."""
    rt = runtime.configure(load_settings(run.env))
    bulk = queue(rt, BULK_QUEUE)
    for n in range(BACKLOG):
        bulk.enqueue("bench_jobs.campaign_text", n, rate_limit=slots_for(rt, BULK_QUEUE, None))
    time.sleep(2.0)  # the pool is busy with it
    figures = scenario(run, "burst+backlog", LEADS)
    waiting = RateLimitRegistry("bulk", rt.redis).get_rate_limited_job_count()
    print(f"  (backlog: {BACKLOG - bulk.count - waiting} of {BACKLOG} campaign jobs run by then)")
    rt.close()
    return figures


def sample_memory(run: Run) -> None:
    """The worker processes' proportional set size, summed, every half second: shared pages
    counted once across the pool, not once per process as resident size would."""
    groups = [run.procs.children["worker"].pid]
    while True:
        run.peak_mb = max(run.peak_mb, pss_mb(groups))
        time.sleep(0.5)


def pss_mb(groups: list[int]) -> float:
    kb = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.getpgid(int(pid)) not in groups:
                continue
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    kb += int(line.split()[1])
        except (OSError, ValueError):
            continue
    return kb / 1024


def report(figures: list[tuple[str, float, float, str]], run: Run) -> int:
    figures.append(("worker processes' memory, peak", run.peak_mb, MEMORY_MAX_MB, "MB"))
    misses = []
    for name, value, target, unit in figures:
        ok = value < target
        shown = f"{value:.2f} {unit}" if unit == "s" else f"{value:.0f} {unit}"
        if unit == "s":
            limit = f"< {target:.1f} s"
        else:  # counts: a target of 0.5 means none at all
            limit = f"= 0 {unit}" if target < 1 else f"< {target:.0f} {unit}"
        print(f"  {name:40s} {shown:>12s}   target {limit:10s} {'ok' if ok else 'MISS'}")
        if not ok:
            misses.append(name)
    print(f"  (Claude stand-in: {run.claude.requests} drafts, {run.claude.most_in_flight} at once)")
    print(f"verdict: {'PASS' if not misses else 'FAIL: ' + ', '.join(misses)}")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
