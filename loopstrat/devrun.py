"""`make run`: a whole local Loopstrat on embedded defaults, in one command.

Starts a Redis if none answers (redis-server if installed, else fakeredis's TCP server),
migrates, makes a demo account on first run, prints how to reach it, then runs the Procfile.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from urllib.parse import urlparse

import click
import redis
from sqlalchemy import select

from loopstrat.accounts import AccountSpec, create_account
from loopstrat.migrate import upgrade
from loopstrat.models import Account
from loopstrat.runtime import Runtime

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


def run_dev(rt: Runtime) -> int:
    redis_proc = ensure_redis(rt.settings.redis_url)
    try:
        upgrade(rt.settings.database_url)
        account = demo_account(rt)
        print_welcome(rt, account)
        procs = ["web", "worker", "crm", "scheduler"]
        return subprocess.call(  # noqa: S603
            [sys.executable, "-m", "honcho", "start", *procs], env=procfile_env()
        )
    except KeyboardInterrupt:
        return 0
    finally:
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(timeout=10)


def procfile_env() -> dict[str, str]:
    """The Procfile names `gunicorn` and `loopstrat` bare, as a deploy's PATH has them; under
    `make run` they live in the virtualenv, which is not on the caller's PATH."""
    env = dict(os.environ)
    venv_bin = os.path.dirname(sys.executable)
    env["PATH"] = os.pathsep.join([venv_bin, env.get("PATH", "")])
    return env


def ensure_redis(url: str) -> subprocess.Popen[bytes] | None:
    if _answers(url):
        return None
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 6379
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
            click.echo(f"no Redis was answering: started an embedded {what} on port {port}")
            return proc
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
            session.commit()
        return account


def print_welcome(rt: Runtime, account: Account) -> None:
    base = rt.settings.public_base_url.rstrip("/")
    port = os.environ.get("PORT", "5000")
    intake = f"{base}/leads/{account.form_key}"
    click.echo("")
    click.echo(rt.settings.banner())
    click.echo(f"account:    {account.name} (id {account.id})")
    click.echo(f"intake URL: {intake}")
    click.echo(f"dashboard:  {base}/dashboard/")
    click.echo("post a lead:")
    click.echo(
        f"  curl -sS -X POST {intake} -H 'Content-Type: application/json' "
        '-d \'{"name": "Jane Doe", "phone": "801-555-0142", "zip": "84101", '
        '"message": "Water heater leaking", "consent": true}\''
    )
    click.echo(f"(web server on port {port}; Ctrl-C stops everything)")
    click.echo("")


def use_development(dotenv: str = DOTENV) -> None:
    """`make run` is development unless LOOPSTRAT_ENV says otherwise, and so are its children
    (the Procfile's processes inherit the environment) and the `loopstrat` commands a developer
    runs beside it from this directory (through a .env written on the first run)."""
    if not os.environ.get("LOOPSTRAT_ENV", "").strip():  # blank counts as unset, as in config
        os.environ["LOOPSTRAT_ENV"] = "development"
    if os.environ["LOOPSTRAT_ENV"].strip() != "development":
        return
    if not os.path.exists(dotenv):
        with open(dotenv, "w", encoding="utf-8") as out:
            out.write(DOTENV_TEXT)
        click.echo(f"wrote {dotenv}: LOOPSTRAT_ENV=development for the commands you run here")
        return
    with open(dotenv, encoding="utf-8") as existing:
        if "LOOPSTRAT_ENV" not in existing.read():
            click.echo(
                f"note: {dotenv} does not set LOOPSTRAT_ENV; `loopstrat` commands run beside "
                "`make run` default to production: add LOOPSTRAT_ENV=development to it"
            )
