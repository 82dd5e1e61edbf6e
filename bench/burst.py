"""Burst benchmark: many leads at once while Claude takes its time, on the processes `make run`
starts (web, the worker pool, scheduler), against local stand-ins of Twilio and of
Anthropic's Messages API (each draft takes 1.5 s).

Four scenarios, each lead posted from an address of its own:
  burst           60 leads over 6 s to 20 accounts, the queues otherwise empty;
  one account     30 leads over 3 s to one account, the rest of the platform idle: its burst
                  must use the idle pool, not wait behind a per-account share of it;
  burst+backlog   the burst while 5,000 campaign-like jobs wait on the bulk queue;
  crash           the burst with the whole worker process tree SIGKILLed 2 s in (an OOM kill,
                  a host lost) and a new `loopstrat worker` started at once.
A lead's figure is the stand-in Twilio's arrival time of its text minus its received_at.
Targets: p90 under 5 s, none over the 8 s drafting budget, each lead texted exactly once, and
the worker processes' memory (proportional set size, summed, at its peak) under 1 GB; after
the crash every lead texted once, the last within 45 s of the restart.
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
from workers.queues import BULK_QUEUE, queue

LEADS, ACCOUNTS, OVER_S = 60, 20, 6.0
ONE_ACCOUNT_LEADS, ONE_ACCOUNT_OVER_S = 30, 3.0
BACKLOG = 5000
CRASH_AFTER_S = 2.0
CRASH_RECOVERY_MAX_S = 45.0
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
    worker_cmd: list[str] = field(default_factory=list)
    peak_mb: float = 0.0
    used: int = 5  # phones taken so far: each scenario texts numbers of its own


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
        figures = [
            *scenario(run, "burst"),
            *scenario(run, "one account", leads=ONE_ACCOUNT_LEADS, over_s=ONE_ACCOUNT_OVER_S,
                      paths=run.paths[:1]),
            *with_backlog(run, redis_url),
            *crash(run),
        ]  # fmt: skip
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
    worker_cmd = [str(BIN / "loopstrat"), "worker"]
    if worker_clock is not None:
        daytime = [sys.executable, str(Path(__file__).parent / "daytime_worker.py")]
        worker_cmd = [*daytime, worker_clock.isoformat()]
    procs.start("worker", worker_cmd, env)
    procs.start("scheduler", [str(BIN / "loopstrat"), "scheduler"], env)
    run = Run(procs, twilio, claude, env, db_url, web_port, place, paths, worker_cmd)
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


Figure = tuple[str, float, float, str]


def scenario(
    run: Run,
    name: str,
    *,
    leads: int = LEADS,
    over_s: float = OVER_S,
    paths: list[str] | None = None,
    drain_s: float = DRAIN_TIMEOUT_S,
    meanwhile: threading.Thread | None = None,
) -> list[Figure]:
    """Post the burst (each lead on its own schedule, as independent visitors, round-robin over
    `paths`), wait for every text, and read each lead's time from received_at to its text
    reaching Twilio. `meanwhile` is started with the first post."""
    phones = posted_phones(run, leads)
    posted = post_burst(run, phones, over_s, paths or run.paths, meanwhile)
    missing = run.twilio.wait_for(phones, drain_s)
    arrivals = run.twilio.arrivals
    waits = [arrivals[p][0] - got.timestamp() for p, got, _ in lead_times(run.db_url, phones)
             if p in arrivals]  # fmt: skip
    twice = sum(len(arrivals.get(p, ())) > 1 for p in phones)
    return [
        (f"{name}: p90 post to Twilio", percentile(waits, 90, leads), P90_MAX_S, "s"),
        (f"{name}: slowest", percentile(waits, 100, leads), MAX_S, "s"),
        (f"{name}: not texted, texted twice", float(missing + twice), 0.5, "leads"),
        (f"{name}: posts refused", float(leads - posted), 0.5, "posts"),
    ]


def posted_phones(run: Run, leads: int) -> list[str]:
    phones = list(phones_in(run.place.area_code, run.used + leads))[run.used :]
    run.used += leads
    return phones


def post_burst(
    run: Run, phones: list[str], over_s: float, paths: list[str], meanwhile: threading.Thread | None
) -> int:
    """How many of the posts were accepted (202)."""
    bodies = lead_bodies(run.place, phones)
    statuses: list[int] = []
    t0 = time.monotonic()
    first = run.used - len(phones)

    def one(i: int) -> None:
        time.sleep(max(0.0, t0 + i * over_s / len(phones) - time.monotonic()))
        n = first + i
        address = f"10.{n // 40000 + 1}.{n // 200 % 200}.{n % 200 + 1}"
        statuses.append(post(run, paths[i % len(paths)], bodies[i], address))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(phones))]
    for thread in [*threads, *([meanwhile] if meanwhile else [])]:
        thread.start()
    for thread in [*threads, *([meanwhile] if meanwhile else [])]:
        thread.join()
    return statuses.count(202)


def crash(run: Run) -> list[Figure]:
    """The burst with the worker host killed outright 2 s in (every process of its tree at
    once, as an OOM kill or a lost host does) and a new one started at once."""
    restarted: list[float] = []

    def kill_and_restart() -> None:
        time.sleep(CRASH_AFTER_S)
        os.killpg(run.procs.children["worker"].pid, signal.SIGKILL)
        run.procs.children["worker"].wait()
        run.procs.start("worker", run.worker_cmd, run.env)
        restarted.append(time.time())

    start = run.used
    figures = scenario(run, "crash", meanwhile=threading.Thread(target=kill_and_restart),
                       drain_s=CRASH_RECOVERY_MAX_S * 3)  # fmt: skip
    phones = list(phones_in(run.place.area_code, run.used))[start:]
    last = max((run.twilio.arrivals[p][0] for p in phones if p in run.twilio.arrivals), default=0)
    recovery = last - restarted[0] if restarted and last else float("inf")
    return [
        *(f for f in figures if "texted" in f[0] or "refused" in f[0]),
        ("crash: last text after the restart", max(recovery, 0.0), CRASH_RECOVERY_MAX_S, "s"),
    ]


def with_backlog(run: Run, redis_url: str) -> list[Figure]:
    """The same burst with campaign-like work queued straight on the bulk queue, past the
    dispatcher and its limit on bulk work in flight: only the queues' order (texts first)
    keeps the leads ahead, the harder case."""
    rt = runtime.configure(load_settings(run.env))
    bulk = queue(rt, BULK_QUEUE)
    for n in range(BACKLOG):
        bulk.enqueue("bench_jobs.campaign_text", n)
    time.sleep(2.0)  # the pool is busy with it
    figures = scenario(run, "burst+backlog")
    print(f"  (backlog: {BACKLOG - bulk.count} of {BACKLOG} campaign jobs run by then)")
    rt.close()
    return figures


def sample_memory(run: Run) -> None:
    """The worker processes' proportional set size, summed, every half second: shared pages
    counted once across the pool, not once per process as resident size would."""
    while True:  # the worker's group of the moment: the crash scenario starts another
        run.peak_mb = max(run.peak_mb, pss_mb([run.procs.children["worker"].pid]))
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


def report(figures: list[Figure], run: Run) -> int:
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
