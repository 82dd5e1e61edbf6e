"""Campaign fan-out benchmark: a reactivation over 100,000 imported contacts, planned and sent.

On a fresh database (SQLite by default; `--database postgresql+psycopg://...`, its public
schema dropped first) and Redis database 11, it imports the contacts from a CSV with
`loopstrat campaign import` (spread over ten NANP time zones, so some are always in their
quiet hours), creates and launches a campaign with `loopstrat campaign create` and `launch`,
then runs the scheduler and the worker pool against a local Twilio stand-in with the account's
pace set to `--rate` texts a second. Figures:
  planning: the launch (audience, holdout, one planned row per contact), time and peak memory
  (the command's own maximum resident set size, from wait4);
  send rate: texts reaching the stand-in a second, over `--seconds` after a warm-up;
  quiet hours: texts that reached someone outside their allowed hours (must be none).
Prints each figure beside its target and a verdict; exit 1 on a miss, 2 if it cannot run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from speed_to_lead import (
    BIN,
    PLACES,
    Processes,
    SetupError,
    _flush,
    child_env,
    find_redis,
    free_port,
    fresh_database,
    phones_in,
    place_in_window,
    run_cli,
)
from sqlalchemy import update
from twilio_standin import TwilioStandIn

from loopstrat.compliance.quiet_hours import Calendar, is_allowed_at
from loopstrat.db import make_engine
from loopstrat.models import Account
from loopstrat.phones import recipient_place

PLANNING_MAX_S = 60.0
MEMORY_MAX_MB = 300.0
RATE_TOLERANCE = 0.05
WARM_UP_S = 5.0


@dataclass
class Figures:
    import_s: float
    import_mb: float
    planning_s: float
    planning_mb: float
    planned: int
    sent: int
    rate: float
    in_quiet_hours: int


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=20.0, help="the account's texts a second")
    parser.add_argument("--seconds", type=float, default=60.0, help="sending measured this long")
    parser.add_argument("--database", default=None, help="a PostgreSQL URL; SQLite if not given")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (DB and logs)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = Path(tempfile.mkdtemp(prefix="loopstrat-fanout-"))
    procs, twilio = Processes(tmp), TwilioStandIn()
    redis_url = ""
    try:
        redis_url = find_redis(procs)
        return report(args, run(args, procs, twilio, tmp, redis_url))
    except SetupError as exc:
        print(f"campaign_fanout: cannot run: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        procs.stop_all()
        twilio.close()
        if redis_url:
            _flush(redis_url)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def run(
    args: argparse.Namespace, procs: Processes, twilio: TwilioStandIn, tmp: Path, redis_url: str
) -> Figures:
    _, worker_clock = place_in_window(datetime.now(UTC))
    _flush(redis_url)
    db_url = fresh_database(args.database, tmp)
    env = child_env(db_url, redis_url, twilio.base_url, free_port())
    run_cli(["migrate"], env, tmp)
    made = run_cli(["create-account", "--json", "--name", "Bench Heating", "--trade", "hvac",
                    "--timezone", "America/Denver", "--twilio-number", "+18015550111"],
                   env, tmp)  # fmt: skip
    account_id = str(json.loads(made)["account_id"])
    _set_pace(db_url, args.rate)
    source = tmp / "customers.csv"
    write_customers(source, args.contacts)
    import_s, import_mb, _ = timed(["campaign", "import", "--account", account_id, str(source)],
                                   env, tmp)  # fmt: skip
    created = run_cli(["campaign", "create", "--account", account_id, "--name", "Come back",
                       "--brief", "10% off any service this month", "--holdout", "10"],
                      env, tmp)  # fmt: skip
    campaign_id = created.split()[1]
    planning_s, planning_mb, said = timed(
        ["campaign", "launch", "--account", account_id, "--campaign", campaign_id], env, tmp
    )
    planned = int(said.split("launched: ")[1].split()[0])
    kind = db_url.split(":", 1)[0]
    print(f"campaign_fanout: {args.contacts} contacts in {len(PLACES)} zones; {kind}; "
          f"{planned} texts planned; pace {args.rate:g}/s")  # fmt: skip
    offset = start_sending(procs, env, worker_clock)
    sent, rate = measure_rate(twilio, args.seconds)
    quiet = sends_in_quiet_hours(twilio, offset)
    return Figures(import_s, import_mb, planning_s, planning_mb, planned, sent, rate, quiet)


def write_customers(path: Path, count: int) -> None:
    """`count` past customers, as many in each place, last served two years ago, all with
    marketing consent from their invoices."""
    per_place = -(-count // len(PLACES))
    served = (datetime.now(UTC) - timedelta(days=730)).date().isoformat()
    with path.open("w") as out:
        out.write("name,phone,zip,last_service_date,last_job_value,marketing_consent,"
                  "consent_source,consent_date\n")  # fmt: skip
        written = 0
        for _where, area, zip5 in PLACES:
            for phone in phones_in(area, min(per_place, count - written)):
                out.write(f"Cust{written} Person,{phone},{zip5 or ''},{served},250,yes,"
                          f"invoice checkbox,{served}\n")  # fmt: skip
                written += 1


def timed(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    """Seconds and peak resident MB of one `loopstrat` command, and what it printed."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(BIN / "loopstrat"), *args], env=env, cwd=cwd,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SetupError(f"loopstrat {' '.join(args[:2])} failed: {out}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024, out


def start_sending(
    procs: Processes, env: dict[str, str], worker_clock: datetime | None
) -> timedelta:
    """The scheduler and the worker pool; how far the worker's clock is ahead of the real one
    (moved to daytime in the hour a day no zone is inside its allowed hours)."""
    if worker_clock is None:
        procs.start("worker", [str(BIN / "loopstrat"), "worker"], env)
        offset = timedelta()
    else:
        daytime = [sys.executable, str(Path(__file__).parent / "daytime_worker.py")]
        procs.start("worker", [*daytime, worker_clock.isoformat()], env)
        offset = worker_clock - datetime.now(UTC)
    procs.start("scheduler", [str(BIN / "loopstrat"), "scheduler"], env)
    return offset


def measure_rate(twilio: TwilioStandIn, seconds: float) -> tuple[int, float]:
    """Texts arriving a second, from WARM_UP_S after the first one for `seconds`."""
    deadline = time.monotonic() + 60
    while not twilio.created and time.monotonic() < deadline:
        time.sleep(0.1)
    if not twilio.created:
        raise SetupError("no text reached the Twilio stand-in in 60 s")
    first = min(t for times in twilio.arrivals.values() for t in times)
    start, end = first + WARM_UP_S, first + WARM_UP_S + seconds
    time.sleep(max(0.0, end - time.time()) + 0.5)
    arrived = [t for times in list(twilio.arrivals.values()) for t in times]
    inside = sum(1 for t in arrived if start <= t < end)
    return len(arrived), inside / seconds


def sends_in_quiet_hours(twilio: TwilioStandIn, offset: timedelta) -> int:
    """Texts that reached someone outside their allowed hours, on the worker's clock."""
    zips = {area: zip5 for _where, area, zip5 in PLACES}
    wrong = 0
    for phone, times in list(twilio.arrivals.items()):
        zones, states = recipient_place(phone, zips.get(phone[2:5]))
        for t in times:
            moment = datetime.fromtimestamp(t, UTC) + offset
            wrong += not is_allowed_at(moment, zones, Calendar(states, marketing=True))
    return wrong


def _set_pace(db_url: str, rate: float) -> None:
    engine = make_engine(db_url)
    with engine.begin() as db:
        db.execute(update(Account).values(sends_per_second=rate, daily_send_cap=1_000_000))
    engine.dispose()


def report(args: argparse.Namespace, f: Figures) -> int:
    rows = [
        ("import, 100,000 rows (no target)", f"{f.import_s:.1f} s", "", True),
        ("import, peak memory", f"{f.import_mb:.0f} MB", f"< {MEMORY_MAX_MB:.0f} MB",
         f.import_mb < MEMORY_MAX_MB),
        ("planning (launch)", f"{f.planning_s:.1f} s", f"< {PLANNING_MAX_S:.0f} s",
         f.planning_s < PLANNING_MAX_S),
        ("planning, peak memory", f"{f.planning_mb:.0f} MB", f"< {MEMORY_MAX_MB:.0f} MB",
         f.planning_mb < MEMORY_MAX_MB),
        ("send rate", f"{f.rate:.2f}/s", f"{args.rate:g}/s ± 5%",
         abs(f.rate - args.rate) <= RATE_TOLERANCE * args.rate),
        ("sends in quiet hours", f"{f.in_quiet_hours}", "= 0", f.in_quiet_hours == 0),
    ]  # fmt: skip
    misses = []
    for name, shown, target, ok in rows:
        print(f"  {name:34s} {shown:>12s}   target {target:14s} {'ok' if ok else 'MISS'}")
        if not ok:
            misses.append(name)
    print(f"  ({f.sent} texts sent while measured, of {f.planned} planned)")
    print(f"verdict: {'PASS' if not misses else 'FAIL: ' + ', '.join(misses)}")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
