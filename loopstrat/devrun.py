"""`make run`: a whole local Loopstrat on embedded defaults, in one command.

Starts a Redis if none answers (redis-server if installed, else fakeredis's TCP server),
migrates, makes a demo account on first run, prints how to reach it, then runs the Procfile.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import IO, Any, NamedTuple
from urllib.parse import urlparse

import click
import redis
from sqlalchemy import select

from loopstrat.accounts import AccountSpec, create_account
from loopstrat.clock import utcnow
from loopstrat.compliance.quiet_hours import Calendar, is_allowed_at
from loopstrat.config import load_dotenv_file, without_secrets
from loopstrat.dashboard.users import create_user, generated_password
from loopstrat.demo import seed_demo_leads
from loopstrat.migrate import upgrade
from loopstrat.models import Account, User
from loopstrat.phones import normalise, recipient_place
from loopstrat.runtime import Runtime

DEMO_ADMIN_EMAIL = "admin@demo.loopstrat.test"
DEMO = AccountSpec(
    name="Demo Plumbing",
    trade="plumbing",
    twilio_number="+18015550100",
    timezone="America/Denver",
    zips="84101,84102,84103",
    alert_phone="+18015550199",
)
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
DOTENV = ".env"
DOTENV_TEXT = """\
# Written by `make run`. Settings default to production; this file makes every `loopstrat`
# command run from this directory a development one too. Never deploy it.
LOOPSTRAT_ENV=development
"""
# The development default SECRET_KEY is in the source for anyone to read, and with it anyone can
# sign a session cookie: each checkout gets a random one of its own in .env instead.
SIGNING_KEY_ENTRY = (
    "# Signs this checkout's dashboard sessions; made by `make run`.\nSECRET_KEY={}\n"
)
# The web process answers this machine only, unless WEB_HOST says otherwise (0.0.0.0: the
# network, for a phone on the same Wi-Fi).
DEV_WEB_HOST = "127.0.0.1"


class ExampleLead(NamedTuple):
    place: str
    name: str
    phone: str
    zip: str


# Leads to try it with, each in a time zone whose texting day covers a different stretch of
# UTC: Utah's, then the Caribbean's, Hawaii's and Guam's. From 11:00 to 12:00 UTC none is.
EXAMPLE_LEADS = (
    ExampleLead("Utah", "Jane Doe", "801-555-0142", "84101"),
    ExampleLead("Puerto Rico", "Ana Rivera", "787-555-0142", "00901"),
    ExampleLead("Hawaii", "Kai Akana", "808-555-0142", "96813"),
    ExampleLead("Guam", "Joe Cruz", "671-555-0142", "96910"),
)
PROCESSES = ["web", "worker", "scheduler"]
# The project's own Procfile, wherever `make run` (or `loopstrat dev`) is started from.
PROCFILE = str(Path(__file__).resolve().parents[1] / "Procfile")


class NotStarted(click.ClickException):
    """Nothing was started, and why is said in one line: `make run` adds no error of its own
    (the Makefile knows this exit code)."""

    exit_code = 3

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"loopstrat: {self.message}", err=True)


def run_dev(rt: Runtime, env_note: str | None = None) -> int:
    port = rt.settings.port
    if not port_is_free(port):
        raise NotStarted(f"port {port} is in use: set PORT, e.g. PORT={port + 1} make run")
    redis_proc, redis_note = ensure_redis(rt.settings.redis_url)
    try:
        upgrade(rt.settings.database_url)
        account = demo_account(rt)
        sign_in_note = demo_admin(rt, account)
        welcome = partial(print_welcome, rt, account, redis_note, env_note, sign_in_note)
        return run_processes(rt, welcome)
    finally:
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(timeout=10)


def run_processes(rt: Runtime, welcome: Callable[[], None]) -> int:
    """The Procfile under honcho until it ends, with the welcome once the web process answers
    (so its URLs work the moment they are shown); Ctrl-C reaches every process (they share our
    process group) and is a clean stop, not an error."""
    port = str(rt.settings.port)
    honcho = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "honcho", "start", "-f", PROCFILE, "-p", port, *PROCESSES],
        env=procfile_env(rt),
    )
    interrupted = False
    while True:
        try:
            if interrupted or welcome_when_ready(honcho, rt.settings.port, welcome):
                code = honcho.wait()
            else:
                code = honcho.returncode
            break
        except KeyboardInterrupt:
            interrupted = True  # honcho got the same Ctrl-C and is stopping: wait, no welcome
    stopped_by_signal = code < 0 or code in (130, 143)
    if stopped_by_signal:
        click.echo("stopped")
        return 0
    return code


def welcome_when_ready(
    honcho: subprocess.Popen[bytes], port: int, welcome: Callable[[], None]
) -> bool:
    """Wait for the web process to accept a connection, then welcome; False if honcho ended."""
    while honcho.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        except OSError:
            time.sleep(0.2)
            continue
        welcome()
        return True
    return False


def web_host() -> str:
    return os.environ.get("WEB_HOST", "").strip() or DEV_WEB_HOST


def port_is_free(port: int) -> bool:
    """Whether the web process can bind the port, as gunicorn would (its address, reuse)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((web_host(), port))
        except OSError:
            return False
    return True


def procfile_env(rt: Runtime) -> dict[str, str]:
    """The Procfile names `gunicorn` and `loopstrat` bare, as a deploy's PATH has them; under
    `make run` they live in the virtualenv, which is not on the caller's PATH. honcho gives each
    process its own PORT, so the public URL is fixed here, from the web process's port."""
    env = dict(os.environ)
    venv_bin = os.path.dirname(sys.executable)
    env["PATH"] = os.pathsep.join([venv_bin, env.get("PATH", "")])
    env["PORT"] = str(rt.settings.port)
    env["WEB_HOST"] = web_host()
    env["PUBLIC_BASE_URL"] = rt.settings.public_base_url
    return env


def ensure_redis(url: str) -> tuple[subprocess.Popen[bytes] | None, str]:
    """A Redis at `url`: the one answering there, else an embedded one. Says which."""
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 6379
    where = f"{without_secrets(url)}, database {(parsed.path or '/0').lstrip('/') or '0'}"
    if _answers(url):
        return None, f"{where}: already running there (set REDIS_URL to use another)"
    if host not in LOCAL_HOSTS:
        raise click.ClickException(f"REDIS_URL {host}:{port} does not answer")
    if shutil.which("redis-server"):
        cmd = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", ""]
        cmd += ["--appendonly", "no"]
        what = "redis-server"
    else:
        cmd = [sys.executable, "-m", "loopstrat.devredis", str(port)]
        what = "fakeredis TCP server (install redis-server for a real one)"
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)  # noqa: S603
    for _ in range(100):
        if _answers(url):
            return proc, f"{where}: none was answering, so an embedded {what}, stopped with us"
        time.sleep(0.1)
    proc.terminate()
    raise click.ClickException(f"could not start an embedded Redis on port {port}")


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def demo_account(rt: Runtime) -> Account:
    with rt.sessions() as session:
        account = session.scalar(select(Account).order_by(Account.id).limit(1))
        if account is None:
            account = create_account(session, DEMO)
            session.flush()
            # Only with the account itself: a second run, or a deleted demo lead, adds none.
            seed_demo_leads(session, account)
            session.commit()
        return account


def demo_admin(rt: Runtime, account: Account) -> str:
    """The demo account's admin, made on the first run; its password exists in clear only in
    that run's banner."""
    with rt.sessions() as session:
        existing = session.scalar(select(User.email).where(User.account_id == account.id))
    if existing is not None:
        return (
            f"sign in:    {existing} (password shown on the first run; another user: "
            f"loopstrat create-user --account {account.id} --email you@example.com --role admin)"
        )
    password = generated_password()
    user = create_user(
        rt, account_id=account.id, email=DEMO_ADMIN_EMAIL, role="admin", password=password
    )
    return f"sign in:    {user.email}  password: {password}  (shown once)"


def print_welcome(
    rt: Runtime, account: Account, redis_note: str, env_note: str | None, sign_in_note: str
) -> None:
    base = rt.settings.public_base_url.rstrip("/")
    intake = f"{base}/leads/{account.form_key}"
    click.echo("")
    if env_note:
        click.echo(env_note)
    click.echo(rt.settings.banner())
    click.echo(f"database:   {without_secrets(rt.settings.database_url)}")
    click.echo(f"redis:      {redis_note}")
    click.echo(f"account:    {account.name} (id {account.id})")
    click.echo(f"intake URL: {intake}")
    click.echo(f"dashboard:  {base}/dashboard/")
    click.echo(sign_in_note)
    for line in example_posts(intake, utcnow()):
        click.echo(line)
    click.echo(f"(web server on port {rt.settings.port}; Ctrl-C stops everything)")
    click.echo("")


def example_posts(intake: str, now: datetime) -> list[str]:
    """The README's Utah lead, and when it is night in Utah, one that is answered at once."""
    utah = EXAMPLE_LEADS[0]
    lines = ["post a lead (answered at once from 8:00 to 21:00 Utah time, else held till 8:00):"]
    lines.append(_curl(intake, utah))
    if not _in_texting_hours(utah, now):
        daytime = [lead for lead in EXAMPLE_LEADS[1:] if _in_texting_hours(lead, now)]
        if daytime:
            lines.append(f"it is night in Utah; a lead from {daytime[0].place} is answered now:")
            lines.append(_curl(intake, daytime[0]))
        else:
            lines.append("no US time zone is in texting hours (8:00-21:00) until 12:00 UTC")
    return lines


def _in_texting_hours(lead: ExampleLead, now: datetime) -> bool:
    zones, states = recipient_place(normalise(lead.phone), lead.zip)
    return is_allowed_at(now, zones, Calendar(states))


def _curl(intake: str, lead: ExampleLead) -> str:
    fields = {"name": lead.name, "phone": lead.phone, "zip": lead.zip}
    body = json.dumps({**fields, "message": "Water heater leaking", "consent": True})
    return f"  curl -sS -X POST {intake} -H 'Content-Type: application/json' -d '{body}'"


def use_development(dotenv: str = DOTENV) -> str | None:
    """`make run` is development unless LOOPSTRAT_ENV says otherwise, and so are its children
    (the Procfile's processes inherit the environment) and the `loopstrat` commands a developer
    runs beside it from this directory (through a .env written on the first run). Returns what
    the welcome should say about it, if anything."""
    if not os.environ.get("LOOPSTRAT_ENV", "").strip():  # blank counts as unset, as in config
        os.environ["LOOPSTRAT_ENV"] = "development"
    if os.environ["LOOPSTRAT_ENV"].strip() != "development":
        return None
    if not os.path.exists(dotenv):
        with open(dotenv, "w", encoding="utf-8") as out:
            out.write(DOTENV_TEXT + "\n" + SIGNING_KEY_ENTRY.format(secrets.token_urlsafe(48)))
        load_dotenv_file(dotenv)  # read once already, before it existed
        return f"wrote {dotenv}: LOOPSTRAT_ENV=development and a SECRET_KEY of this checkout's own"
    with open(dotenv, encoding="utf-8") as existing:
        written = existing.read()
    if not re.search(r"(?m)^\s*SECRET_KEY\s*=", written) and not os.environ.get("SECRET_KEY"):
        with open(dotenv, "a", encoding="utf-8") as out:
            out.write("\n" + SIGNING_KEY_ENTRY.format(secrets.token_urlsafe(48)))
        load_dotenv_file(dotenv)
    if "LOOPSTRAT_ENV" not in written:
        return (
            f"note: {dotenv} does not set LOOPSTRAT_ENV; `loopstrat` commands run beside "
            "`make run` default to production: add LOOPSTRAT_ENV=development to it"
        )
    return None
