"""Speed-to-lead benchmark: intake throughput and received-to-Twilio latency, end to end.

Runs the real processes on 127.0.0.1 (gunicorn with the Procfile's web options, the scheduler, one
`loopstrat worker`) on a fresh SQLite file and Redis database 11, with Twilio as a stand-in in
this process that answers Messages.create at once and records when each POST arrived.
(a) Ingest: the same keep-alive client threads post the same JSON leads to POST /leads/<key> and
to a bare Flask endpoint doing one RQ enqueue (bench/bare_enqueue_app.py, served the same way),
in alternating rounds, before the worker starts; the figure is the ratio of the two rates.
(b) Latency: with the worker running, leads are posted at a steady rate; a lead's latency is the
stand-in's arrival time of its text minus the lead's `received_at` in the database.
Prints each figure beside its target, then a verdict; exit 1 on a missed target, 2 when the
bench cannot run. `python bench/speed_to_lead.py --help` for the knobs.

`python bench/speed_to_lead.py burst [--database URL]` runs the burst scenarios instead: many
leads at once while Claude takes 1.5 s a draft, with and without a campaign backlog
(bench/burst.py, which has its own processes and stand-ins).
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path
from zoneinfo import ZoneInfo

import redis
from sqlalchemy import make_url, select, text, update
from twilio_standin import ACCOUNT_SID, AUTH_TOKEN, TwilioStandIn

from loopstrat.compliance import REPLY, Allow, Recipient, may_text
from loopstrat.db import make_engine
from loopstrat.models import Contact, Lead, Outbox
from loopstrat.phones import InvalidPhone, normalise, recipient_place

BENCH_DIR = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
REDIS_DB = 11
ACCOUNT_NUMBER = "+18015550111"


def procfile_web_options() -> list[str]:
    """The Procfile's gunicorn options, as written there, without --bind and the app: the
    benches serve exactly as production does (loopstrat/gunicorn_conf.py: 4 threads, no
    control socket, ...); the process count comes from WEB_CONCURRENCY, as there."""
    line = next(
        line for line in (BENCH_DIR.parent / "Procfile").read_text().splitlines()
        if line.startswith("web:")
    )  # fmt: skip
    words = line.split()[2:-1]  # after "web: gunicorn", before the app
    i = words.index("--bind")
    return words[:i] + words[i + 2 :]


WEB_OPTIONS = procfile_web_options()

# Blank rather than absent in the children: python-dotenv never overrides a set variable, so a
# stray .env cannot switch on Claude, billing, Airtable or a Twilio edge during a benchmark.
BLANKED_SETTINGS = (
    "ANTHROPIC_API_KEY STRIPE_SECRET_KEY STRIPE_WEBHOOK_SECRET AIRTABLE_TOKEN ENCRYPTION_KEY "
    "LOOPSTRAT_ENV TRUSTED_PROXY_HOPS TWILIO_REGION TWILIO_EDGE DRAFT_BUDGET_S TWILIO_TIMEOUT_S "
    "VALIDITY_PERIOD_S INTAKE_MAX_BODY_BYTES"
).split()

RATIO_MIN = 0.6
P50_MAX_MS = 100.0
P99_MAX_MS = 500.0

START_TIMEOUT_S = 30.0
DRAIN_TIMEOUT_S = 120.0
WARM_REQUESTS = 100  # per app: each gunicorn worker builds its DB engine and Redis pool lazily
WARM_LEADS = 5  # the worker's first job imports the job modules and builds the Twilio client
ROUNDS = 4  # ingest rounds per app, alternating, so a busy spell on the machine hits both
RUN_WINDOW = timedelta(minutes=5)  # the recipients' local clock must allow texts this long

# (where, area code, ZIP) across the NANP zones Loopstrat texts, east to west: one of them is
# inside 8:00-21:00 at any hour but about 11:00-12:00 UTC (Guam's evening ends before Atlantic
# time's morning starts). Each ZIP is in its area code's state, so no stricter state window
# (FL, OK, MD, WA) narrows the gate unexpectedly.
PLACES = [
    ("Newfoundland", "709", None),
    ("Puerto Rico", "787", "00901"),
    ("Eastern", "212", "10001"),
    ("Central", "312", "60601"),
    ("Mountain", "801", "84101"),
    ("Pacific", "213", "90012"),
    ("Alaska", "907", "99501"),
    ("Hawaii", "808", "96813"),
    ("American Samoa", "684", "96799"),
    ("Guam", "671", "96910"),
]


class SetupError(RuntimeError):
    """The bench could not run; the message says what to fix (exit 2)."""


# --- recipients inside the texting window ------------------------------------------------------


@dataclass(frozen=True)
class Place:
    where: str
    area_code: str
    zip: str | None
    zone: str


def place_in_window(now: datetime) -> tuple[Place, datetime | None]:
    """A place whose quiet-hours gate allows a reply now and for the whole run, asked of the
    product's own gate, and None; or, in the hour a day when there is none, Salt Lake City
    and a daytime moment there to run the worker's clock at (bench/daytime_worker.py)."""
    place = _allowed_place(now)
    if place is not None:
        return place, None
    mountain = next(p for p in PLACES if p[0] == "Mountain")
    zone = ZoneInfo("America/Denver")
    daytime = datetime.combine(now.astimezone(zone).date(), time_of_day(11, 0), tzinfo=zone)
    return Place(mountain[0], mountain[1], mountain[2], zone.key), daytime.astimezone(UTC)


def _allowed_place(now: datetime) -> Place | None:
    for where, area, zip5 in PLACES:
        zones, states = recipient_place(next(phones_in(area, 1)), zip5)
        person = Recipient(zones, states, consent=True, marketing_consent=False, opted_out=False)
        if all(
            isinstance(may_text(recipient=person, purpose=REPLY, now=t, account_active=True), Allow)
            for t in (now, now + RUN_WINDOW)
        ):
            return Place(where, area, zip5, zones[0])
    return None


def phones_in(area: str, count: int) -> Iterator[str]:
    """Distinct valid numbers in one area code (libphonenumber's metadata decides validity)."""
    made = 0
    for exchange in range(200, 1000):
        if exchange % 100 == 11 or exchange == 555:
            continue
        for line in range(100, 10_000):
            try:
                phone = normalise(f"+1{area}{exchange}{line:04d}")
            except InvalidPhone:
                if line == 100:
                    break  # libphonenumber rejects the whole exchange
                continue
            yield phone
            made += 1
            if made == count:
                return


def lead_bodies(place: Place, phones: list[str]) -> list[bytes]:
    """One JSON lead per phone: distinct phones, so the 10-minute re-post merge never applies."""
    bodies = []
    for i, phone in enumerate(phones):
        lead = {
            "name": f"Bench Lead{i}",
            "phone": phone,
            "message": "Water heater leaking",
            "service": "water heater",
            "consent": True,
        }
        if place.zip:
            lead["zip"] = place.zip
        bodies.append(json.dumps(lead).encode())
    return bodies


# --- processes ---------------------------------------------------------------------------------


@dataclass
class Processes:
    """Every child this run started, each in its own process group, stopped in reverse."""

    logs: Path
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        with open(self.logs / f"{name}.log", "wb") as log:
            self.children[name] = subprocess.Popen(
                cmd,
                env=env,
                cwd=self.logs,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self.children[name]

    def stop_all(self) -> None:
        for proc in reversed(list(self.children.values())):
            _stop(proc)

    def cpu_s(self, name: str) -> float | None:
        return group_cpu_s(self.children[name].pid)

    def tail(self, name: str, lines: int = 15) -> str:
        path = self.logs / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _stop(proc: subprocess.Popen[bytes]) -> None:
    for sig, wait_s in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)  # the group: gunicorn's workers go with their arbiter
            proc.wait(timeout=wait_s)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def group_cpu_s(pgid: int) -> float | None:
    """CPU seconds used so far by a process group's live members (Linux /proc; else None)."""
    if not os.path.isdir("/proc/self"):
        return None
    ticks = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(stat[2]) == pgid:
            ticks += int(stat[11]) + int(stat[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def find_redis(procs: Processes) -> str:
    """Database 11 of the local Redis, or of a redis-server started here if none answers."""
    url = f"redis://{HOST}:6379/{REDIS_DB}"
    if _redis_answers(url):
        return url
    if not shutil.which("redis-server"):
        raise SetupError("no Redis answers on 127.0.0.1:6379 and there is no redis-server to start")
    port = free_port()
    cmd = ["redis-server", "--bind", HOST, "--port", str(port), "--save", "", "--appendonly", "no"]
    procs.start("redis", cmd, dict(os.environ))
    url = f"redis://{HOST}:{port}/{REDIS_DB}"
    deadline = time.monotonic() + 10
    while not _redis_answers(url):
        if time.monotonic() > deadline:
            raise SetupError(f"started redis-server on port {port}, but it never answered")
        time.sleep(0.1)
    print(f"no Redis on 127.0.0.1:6379: started redis-server on port {port}")
    return url


def _redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def child_env(db_url: str, redis_url: str, twilio_base: str, web_port: int) -> dict[str, str]:
    env = dict(os.environ)
    for name in BLANKED_SETTINGS:
        env[name] = ""
    env.update(
        LOOPSTRAT_ENV="development",  # settings default to production, which wants real keys
        DATABASE_URL=db_url,
        REDIS_URL=redis_url,
        PUBLIC_BASE_URL=f"http://{HOST}:{web_port}",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_API_BASE=twilio_base,
        # Thousands of leads a minute from one IP to one form is the point here, not abuse.
        INTAKE_RATE_PER_KEY_PER_MIN="100000000",
        INTAKE_RATE_PER_IP_PER_MIN="100000000",
        PYTHONPATH=os.pathsep.join(filter(None, [str(BENCH_DIR), env.get("PYTHONPATH")])),
        # requests (under Twilio's SDK) honours proxy variables; the stand-in is local.
        NO_PROXY=",".join(filter(None, [HOST, "localhost", env.get("NO_PROXY")])),
    )
    return env


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [str(BIN / "loopstrat"), *args], env=env, cwd=cwd, capture_output=True, timeout=60
    )
    if done.returncode != 0:
        raise SetupError(f"loopstrat {args[0]} failed: {done.stderr.decode(errors='replace')}")
    return done.stdout.decode()


def start_web(procs: Processes, name: str, app: str, port: int, env: dict[str, str]) -> None:
    where = ["--bind", f"{HOST}:{port}"]
    proc = procs.start(name, [str(BIN / "gunicorn"), *where, *WEB_OPTIONS, app], env)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            raise SetupError(f"{name} ({app}) exited at start:\n{procs.tail(name)}")
        conn = http.client.HTTPConnection(HOST, port, timeout=2)
        status = request(conn, "GET", "/healthz")
        conn.close()
        if status == 200:
            return
        if time.monotonic() > deadline:
            raise SetupError(f"{name} did not answer /healthz in {START_TIMEOUT_S:.0f} s")
        time.sleep(0.1)


# --- the client --------------------------------------------------------------------------------


def request(conn: http.client.HTTPConnection, method: str, path: str, body: bytes = b"") -> int:
    """One request on a keep-alive connection: the status, or 0 on a transport error."""
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        conn.close()  # the next request reconnects
        return 0


@dataclass
class Load:
    """Requests one app answered, the wall time they took, and the server CPU they used."""

    requests: int = 0
    seconds: float = 0.0
    cpu_s: float | None = 0.0
    statuses: Counter[int] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.statuses[202] / self.seconds if self.seconds else 0.0


def drive(port: int, path: str, bodies: list[bytes], clients: int, load: Load) -> None:
    """Post every body as fast as `clients` keep-alive connections allow; add to `load`."""
    ready = threading.Barrier(clients + 1)
    counts = [Counter[int]() for _ in range(clients)]

    def client(k: int) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        try:
            conn.connect()  # before the clock starts: only requests are timed
            ready.wait()
            for body in bodies[k::clients]:
                counts[k][request(conn, "POST", path, body)] += 1
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    load.seconds += time.perf_counter() - started
    load.requests += len(bodies)
    for count in counts:
        load.statuses.update(count)


def post_steadily(port: int, path: str, bodies: list[bytes], rate: float) -> Counter[int]:
    """Post on a fixed schedule (not after the previous answer), as independent leads arrive."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    statuses: Counter[int] = Counter()
    t0 = time.monotonic()
    for i, body in enumerate(bodies):
        delay = t0 + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        statuses[request(conn, "POST", path, body)] += 1
    conn.close()
    return statuses


# --- the run -----------------------------------------------------------------------------------


@dataclass
class Stack:
    """What one run started: children, stand-in, ports, the account's intake path."""

    procs: Processes
    standin: TwilioStandIn
    place: Place
    env: dict[str, str]
    db_url: str
    redis_url: str
    web_port: int
    bare_port: int
    path: str = ""
    worker_clock: datetime | None = None  # set in the hour a day no zone is in texting hours


@dataclass
class Figures:
    bare: Load
    intake: Load
    leads: int
    latencies_ms: list[float]  # received_at -> arrival at the stand-in, texted leads only
    stamps_ms: list[float]  # received_at -> first_response_at (stamped at the Twilio call)
    posted: Counter[int]
    missing: int
    texted_twice: int


def main() -> int:
    if sys.argv[1:2] == ["burst"]:
        import burst  # imports this module: only now, not at the top

        sys.argv = [f"{sys.argv[0]} burst", *sys.argv[2:]]
        return burst.main()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="timed ingest POSTs per app")
    parser.add_argument("--clients", type=int, default=8, help="concurrent keep-alive clients")
    parser.add_argument("--leads", type=int, default=500, help="leads timed for latency")
    parser.add_argument("--rate", type=float, default=20.0, help="latency leads per second")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (DB and logs)")
    parser.add_argument(
        "--database", default=None, help="a PostgreSQL URL (its public schema is dropped first)"
    )
    args = parser.parse_args()
    # SIGTERM (a CI timeout, an interrupted make) unwinds through the finally that stops children.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = Path(tempfile.mkdtemp(prefix="loopstrat-bench-"))
    procs, standin = Processes(tmp), TwilioStandIn()
    stack = None
    try:
        stack = start_stack(procs, standin, tmp, args.database)
        return report(args, run_phases(args, stack))
    except SetupError as exc:
        print(f"speed_to_lead: cannot run: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        procs.stop_all()
        standin.close()
        if stack is not None:
            _flush(stack.redis_url)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def start_stack(
    procs: Processes, standin: TwilioStandIn, tmp: Path, database: str | None = None
) -> Stack:
    place, worker_clock = place_in_window(datetime.now(UTC))
    redis_url = find_redis(procs)
    _flush(redis_url)
    db_url = fresh_database(database, tmp)
    web_port, bare_port = free_port(), free_port()
    env = child_env(db_url, redis_url, standin.base_url, web_port)
    stack = Stack(procs, standin, place, env, db_url, redis_url, web_port, bare_port)
    stack.worker_clock = worker_clock
    run_cli(["migrate"], env, tmp)
    options = {"--name": "Bench Plumbing", "--trade": "plumbing", "--timezone": place.zone,
               "--twilio-number": ACCOUNT_NUMBER, "--zips": place.zip or ""}  # fmt: skip
    account_args = ["create-account", "--json", *(part for kv in options.items() for part in kv)]
    stack.path = "/leads/" + json.loads(run_cli(account_args, env, tmp))["form_key"]
    start_web(procs, "web", "loopstrat.wsgi:app", web_port, env)
    start_web(procs, "bare", "bare_enqueue_app:app", bare_port, env)
    local = (worker_clock or datetime.now(UTC)).astimezone(ZoneInfo(place.zone))
    moved = (
        " on the worker's moved clock: no NANP zone is in texting hours now" if worker_clock else ""
    )
    print(
        f"speed_to_lead: leads in {place.where} ({place.zone}, {local:%H:%M} there{moved}); "
        f"{db_url.split(':', 1)[0]}, Redis db {REDIS_DB}, Twilio stand-in at {standin.base_url}"
    )
    return stack


def fresh_database(url: str | None, folder: Path) -> str:
    """A new SQLite file, or the given PostgreSQL database with its public schema dropped."""
    if url is None:
        return f"sqlite:///{folder / 'bench.db'}"
    create_database_if_missing(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def create_database_if_missing(url: str) -> None:
    """A fresh machine has PostgreSQL's own databases only: make the bench's, from `postgres`."""
    target = make_url(url)
    admin = make_engine(target.set(database="postgres").render_as_string(hide_password=False))
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            found = conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
            )
            if not found:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def _flush(redis_url: str) -> None:
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=2).flushdb()
    except redis.RedisError:
        pass


def run_phases(args: argparse.Namespace, stack: Stack) -> Figures:
    needed = WARM_REQUESTS + args.requests + WARM_LEADS + args.leads
    phones = list(phones_in(stack.place.area_code, needed))
    if len(phones) < needed:
        raise SetupError(f"area code {stack.place.area_code} has fewer than {needed} numbers")
    bodies = lead_bodies(stack.place, phones)
    split = WARM_REQUESTS + args.requests
    bare, intake = measure_ingest(args, stack, bodies[:split])
    forget_ingest_leads(stack)
    return measure_latency(args, stack, bodies[split:], phones[split:], bare, intake)


def forget_ingest_leads(stack: Stack) -> None:
    """The ingest leads are not timed: close their outbox rows, so the scheduler and worker
    start with nothing to do but the timed leads."""
    engine = make_engine(stack.db_url)
    with engine.begin() as db:
        db.execute(update(Outbox).values(state="done"))
    engine.dispose()


def measure_ingest(
    args: argparse.Namespace, stack: Stack, bodies: list[bytes]
) -> tuple[Load, Load]:
    warm, timed = bodies[:WARM_REQUESTS], bodies[WARM_REQUESTS:]
    apps = [("bare", stack.bare_port, Load()), ("web", stack.web_port, Load())]
    for _name, port, _load in apps:
        drive(port, stack.path, warm, args.clients, Load())
    per_round = math.ceil(len(timed) / ROUNDS)
    for r in range(ROUNDS):
        chunk = timed[r * per_round : (r + 1) * per_round]
        for name, port, load in apps if r % 2 == 0 else reversed(apps):  # ABBA order
            before = stack.procs.cpu_s(name)
            drive(port, stack.path, chunk, args.clients, load)
            after = stack.procs.cpu_s(name)
            if before is None or after is None or load.cpu_s is None:
                load.cpu_s = None  # no /proc: the report leaves the CPU figure out
            else:
                load.cpu_s += after - before
    return apps[0][2], apps[1][2]


def measure_latency(
    args: argparse.Namespace,
    stack: Stack,
    bodies: list[bytes],
    phones: list[str],
    bare: Load,
    intake: Load,
) -> Figures:
    stack.procs.start("worker", worker_command(stack), stack.env)
    stack.procs.start("scheduler", [str(BIN / "loopstrat"), "scheduler"], stack.env)
    warm_phones, timed_phones = phones[:WARM_LEADS], phones[WARM_LEADS:]
    post_steadily(stack.web_port, stack.path, bodies[:WARM_LEADS], args.rate)
    if stack.standin.wait_for(warm_phones, START_TIMEOUT_S):
        raise SetupError(
            f"the worker sent no text in {START_TIMEOUT_S:.0f} s:\n{stack.procs.tail('worker')}"
        )
    posted = post_steadily(stack.web_port, stack.path, bodies[WARM_LEADS:], args.rate)
    missing = stack.standin.wait_for(timed_phones, DRAIN_TIMEOUT_S)
    rows = lead_times(stack.db_url, timed_phones)
    arrivals = stack.standin.arrivals
    latencies = [(arrivals[p][0] - got.timestamp()) * 1000 for p, got, _ in rows if p in arrivals]
    stamps = [(first - got).total_seconds() * 1000 for _, got, first in rows if first]
    if stack.worker_clock is not None:
        stamps = []  # first_response_at is on the worker's moved clock: not comparable
    twice = sum(len(arrivals.get(p, ())) > 1 for p in timed_phones)
    return Figures(bare, intake, len(timed_phones), latencies, stamps, posted, missing, twice)


def worker_command(stack: Stack) -> list[str]:
    if stack.worker_clock is None:
        return [str(BIN / "loopstrat"), "worker"]
    daytime = stack.worker_clock.isoformat()
    return [sys.executable, str(BENCH_DIR / "daytime_worker.py"), daytime]


def lead_times(db_url: str, phones: list[str]) -> list[tuple[str, datetime, datetime | None]]:
    """(phone, received_at, first_response_at) of each lead, as the product recorded them."""
    engine = make_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(Contact.phone, Lead.received_at, Lead.first_response_at)
            .join(Lead, Lead.contact_id == Contact.id)
            .where(Contact.phone.in_(phones))
        ).all()
    engine.dispose()
    return [(phone, received, first) for phone, received, first in rows]


# --- the report --------------------------------------------------------------------------------


def percentile(values: list[float], pct: float, count: int) -> float:
    """Nearest rank over `count` leads; a lead that was never texted counts as infinitely late."""
    ranked = sorted(values)[:count] + [math.inf] * max(0, count - len(values))
    if not ranked:
        return math.inf
    return ranked[max(1, math.ceil(pct / 100 * len(ranked))) - 1]


def report(args: argparse.Namespace, f: Figures) -> int:
    misses = report_ingest(args, f) + report_latency(args, f)
    if misses:
        print(f"verdict: FAIL ({'; '.join(misses)})")
        return 1
    print("verdict: PASS (all 3 targets met)")
    return 0


def report_ingest(args: argparse.Namespace, f: Figures) -> list[str]:
    misses: list[str] = []
    workers = os.environ.get("WEB_CONCURRENCY") or "1"
    served = f"gunicorn {' '.join(WEB_OPTIONS)}, WEB_CONCURRENCY={workers}"
    print(
        f"(a) ingest: {f.intake.requests} JSON leads per app, {args.clients} keep-alive "
        f"clients, {ROUNDS} alternating rounds, worker not started; both apps on {served}"
    )
    for label, load in (("bare Flask + one RQ enqueue", f.bare), ("POST /leads/<key>", f.intake)):
        cpu = f"   server CPU {load.cpu_s / load.requests * 1000:.2f} ms/req" if load.cpu_s else ""
        print(f"    {label:<28}{load.rate:8.1f} req/s{cpu}   answers {_statuses(load.statuses)}")
        if load.statuses[202] != load.requests:
            misses.append(f"{label}: {load.requests - load.statuses[202]} POSTs not answered 202")
    ratio = f.intake.rate / f.bare.rate if f.bare.rate else 0.0
    figure("ingest ratio", ratio, ">=", RATIO_MIN, misses)
    return misses


def report_latency(args: argparse.Namespace, f: Figures) -> list[str]:
    misses: list[str] = []
    print(
        f"(b) latency: {f.leads} leads at {args.rate:g}/s after {WARM_LEADS} warm-up, one "
        "worker; from the lead's received_at (DB) to its POST arriving at the Twilio stand-in"
    )
    stamped = (
        f"{percentile(f.stamps_ms, 50, len(f.stamps_ms)):.1f} ms"
        if f.stamps_ms
        else "n/a (the worker's clock was moved)"
    )
    print(
        f"    answered 202 {f.posted[202]}/{f.leads}, texted {f.leads - f.missing}/{f.leads}, "
        f"texted twice {f.texted_twice}; received_at -> first_response_at p50 {stamped}"
    )
    if f.missing:
        misses.append(f"{f.missing} of {f.leads} leads never reached Twilio")
    if f.texted_twice:
        misses.append(f"{f.texted_twice} leads texted more than once")
    figure("latency p50 (ms)", percentile(f.latencies_ms, 50, f.leads), "<", P50_MAX_MS, misses)
    figure("latency p95 (ms)", percentile(f.latencies_ms, 95, f.leads), None, None, misses)
    figure("latency p99 (ms)", percentile(f.latencies_ms, 99, f.leads), "<", P99_MAX_MS, misses)
    return misses


def figure(
    name: str, value: float, op: str | None, target: float | None, misses: list[str]
) -> None:
    """One line: the figure, its target and ok or MISS; a miss also goes into `misses`."""
    if op is None or target is None:
        print(f"{name:<20}{value:9.1f}   (no target)")
        return
    ms = name.endswith("(ms)")
    shown, bound = (f"{value:.1f}", f"{target:.0f}") if ms else (f"{value:.2f}", f"{target:.2f}")
    met = value >= target if op == ">=" else value < target
    print(f"{name:<20}{shown:>9}   target {op} {bound:<6}  {'ok' if met else 'MISS'}")
    if not met:
        label, unit = (name.removesuffix(" (ms)"), " ms") if ms else (name, "")
        misses.append(f"{label} {shown}{unit} {'<' if op == '>=' else '>='} {bound}{unit}")


def _statuses(statuses: Counter[int]) -> str:
    return ", ".join(f"{n}x {code or 'error'}" for code, n in sorted(statuses.items()))


if __name__ == "__main__":
    sys.exit(main())
