"""Fixtures: the real database (SQLite file or TEST_DATABASE_URL) and the real Redis.

Only HTTP to outside services is mocked: Twilio with `responses`, Claude with a local HTTP
server (the anthropic SDK talks through httpx2, which `responses` cannot see).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
import responses
import time_machine
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from loopstrat import runtime
from loopstrat.accounts import AccountSpec, create_account
from loopstrat.app import create_app
from loopstrat.cli import main
from loopstrat.config import Settings
from loopstrat.db import Base, make_engine
from loopstrat.logs import HANDLER_NAME
from loopstrat.migrate import upgrade
from loopstrat.models import Account
from tests.airtable_api import FakeAirtable
from tests.claude_api import claude  # noqa: F401 - fixture
from tests.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from workers.queues import WORKER_QUEUES, queue
from workers.scheduler import dispatch_due
from workers.worker import LoopstratWorker

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PUBLIC_BASE_URL = "https://hooks.loopstrat.test"


@pytest.fixture(scope="session", autouse=True)
def test_environment() -> Iterator[None]:
    """Settings default to production; the CLI, run by tests, must know it is under test."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOOPSTRAT_ENV", "test")
        yield


@pytest.fixture(autouse=True)
def root_logger() -> Iterator[None]:
    """A CLI run installs the production log handler on the root logger: take it off after
    the test, so a later test's background threads do not write through it."""
    root = logging.getLogger()
    level = root.level
    yield
    for handler in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'loopstrat.db'}"
    upgrade(url)  # the suite runs on the migrated schema, so migrations are tested too
    return url


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        redis_url=TEST_REDIS_URL,
        secret_key="test-secret",
        public_base_url=PUBLIC_BASE_URL,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        intake_rate_per_key_per_min=1000,
        intake_rate_per_ip_per_min=1000,
    )


@pytest.fixture
def rt(settings: Settings) -> Iterator[runtime.Runtime]:
    current = runtime.configure(settings)
    _empty_tables(current)
    current.redis.flushdb()
    yield current
    current.close()


def _empty_tables(current: runtime.Runtime) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with current.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))  # noqa: S608 - our own table names


@pytest.fixture
def reconfigure(rt: runtime.Runtime) -> Any:
    """Swap settings mid-test (e.g. turn Claude on) on the same database and Redis."""

    def apply(**changes: Any) -> runtime.Runtime:
        return runtime.configure(replace(rt.settings, **changes))

    return apply


@pytest.fixture
def db(rt: runtime.Runtime) -> Iterator[Session]:
    with rt.sessions() as session:
        yield session


@pytest.fixture
def app(rt: runtime.Runtime) -> Flask:
    flask_app = create_app(rt.settings)
    flask_app.config["TESTING"] = True
    return flask_app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeTwilio(mock)
        fake.install()
        yield fake


@pytest.fixture
def worker(rt: runtime.Runtime) -> Any:
    """Dispatch due outbox rows and drain the real RQ queues in this process, as the
    scheduler and `loopstrat worker --burst` would."""

    def drain() -> None:
        current = runtime.current()
        queues = [queue(current, name) for name in WORKER_QUEUES]
        # Each round hands out what a pool could take (workers/turns.py); a job may make more
        # work due now: dispatch and run that too.
        for _ in range(200):
            if not dispatch_due(current) and not any(q.count for q in queues):
                return
            LoopstratWorker(queues, connection=current.redis).work(burst=True, with_scheduler=False)

    return drain


@pytest.fixture
def account(rt: runtime.Runtime) -> Account:
    return make_account(rt)


def make_account(rt: runtime.Runtime, **overrides: Any) -> Account:
    spec = AccountSpec(
        name=overrides.pop("name", "Acme Plumbing"),
        trade=overrides.pop("trade", "plumbing"),
        twilio_number=overrides.pop("twilio_number", "+18015550111"),
        timezone=overrides.pop("timezone", "America/Denver"),
        zips=overrides.pop("zips", "84101,84102"),
        alert_phone=overrides.pop("alert_phone", "+18015550199"),
        website=overrides.pop("website", "acmeplumbing.com"),
    )
    with rt.sessions() as session:
        acct = create_account(session, spec)
        for name, value in overrides.items():
            setattr(acct, name, value)
        session.commit()
        return acct


# 11:00 in Salt Lake City: inside every US quiet-hours window.
DAYTIME = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(DAYTIME, tick=True) as traveller:
        yield traveller


@pytest.fixture
def redis_conn(rt: runtime.Runtime) -> redis.Redis:
    return rt.redis


@pytest.fixture
def airtable(twilio: FakeTwilio) -> FakeAirtable:
    """Airtable's API on the same `responses` mock as Twilio (a nested mock would not see it)."""
    return FakeAirtable(twilio.mock).install()


@pytest.fixture
def cli(rt):
    """Run a `loopstrat` command on the test database and Redis."""
    env = {
        "DATABASE_URL": rt.settings.database_url,
        "REDIS_URL": rt.settings.redis_url,
        "SECRET_KEY": rt.settings.secret_key,
        "TWILIO_ACCOUNT_SID": rt.settings.twilio_account_sid,
        "TWILIO_AUTH_TOKEN": rt.settings.twilio_auth_token,
        "PUBLIC_BASE_URL": rt.settings.public_base_url,
    }

    def invoke(*args: str, input: str | None = None):  # noqa: A002 - CliRunner's name
        result = CliRunner().invoke(main, list(args), input=input, env=env)
        runtime.configure(rt.settings)
        return result

    return invoke
