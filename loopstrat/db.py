"""Engine and session factory: how we talk to SQLite or PostgreSQL. Holds no tenant logic."""

from __future__ import annotations

import os
import select
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, create_engine, event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

# Execution option: how a SQLite transaction begins. "IMMEDIATE" takes the write lock at BEGIN.
SQLITE_BEGIN = "loopstrat_sqlite_begin"

# The largest id any table's integer key can hold (PostgreSQL BIGINT, SQLite INTEGER): a larger
# one in a URL or a request names nothing, and would fail the driver's conversion (a 500).
MAX_ID = 2**63 - 1


class Base(DeclarativeBase):
    pass


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in, timezone-aware UTC out, on SQLite too (which stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def make_engine(url: str) -> Engine:
    # hide_parameters: a failed statement's error (logged, and kept by RQ for a day) must not
    # carry the phone numbers and message bodies it was binding.
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # connect_timeout: libpq waits for the operating system (minutes) on an unreachable host;
    # a health check or a lead post should fail in seconds instead.
    engine = create_engine(
        url,
        pool_size=10,
        max_overflow=10,
        hide_parameters=True,
        connect_args={"connect_timeout": 5},
    )
    event.listen(engine, "checkout", _discard_if_server_left)
    return engine


def _discard_if_server_left(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    """Instead of pool_pre_ping's round trip on every checkout, which cost a lead post a tenth
    of its CPU: an idle connection has nothing to read unless its server has said goodbye (a
    restart, an idle timeout, pg_terminate_backend all send a FATAL notice, then close), and
    one poll(2) sees that. The pool then opens a new connection (SQLAlchemy retries a checkout
    that raises DisconnectionError). A server gone without a word is not seen here; neither
    would a ping see it before its own timeout."""
    try:
        gone = dbapi_conn.closed or _readable(dbapi_conn.pgconn.socket)
    except Exception:  # psycopg raises on a connection too broken to name its socket
        gone = True
    if gone:
        raise DisconnectionError("the server closed this connection while it was idle")


def _readable(fd: int) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def violated_constraint(exc: IntegrityError) -> str:
    """The rule a write broke, without the values: PostgreSQL's DETAIL quotes the row (a phone,
    a body), so a log names the constraint instead of printing the error."""
    name = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
    if name:
        return str(name)
    # SQLite names the columns only: "UNIQUE constraint failed: contacts.account_id, ...".
    return str(exc.orig).split("\n", 1)[0][:200]


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the web process read while the worker writes; the busy timeout waits out a lock
    # instead of failing a lead post.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    # 2 MB by default: the dashboard's indexes over a busy account would be read from the OS on
    # every page. 64 MB per connection is a ceiling, taken only as pages are read.
    cur.execute("PRAGMA cache_size=-65536")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    # pysqlite opens a transaction only at the first write, so a transaction that reads, decides
    # and then writes would decide on rows another writer may change before its write. Asked
    # for (begin_writing), BEGIN IMMEDIATE holds SQLite's one write lock from the first read on.
    if conn.get_execution_options().get(SQLITE_BEGIN) == "IMMEDIATE":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def begin_writing(session: Session) -> None:
    """Begin the session's transaction as a writer: on SQLite with the write lock held from now
    to its end; on PostgreSQL an ordinary transaction (lock the rows you decide on)."""
    if session.in_transaction():
        raise RuntimeError("begin_writing must start the session's transaction")
    session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def refresh_statistics(session: Session, table: str) -> None:
    """After a bulk load, PostgreSQL's planner still thinks the table small until autovacuum
    analyses it (a minute or more) and scans it whole meanwhile: the pacer's every tick did,
    at a third of its pace. ANALYZE in the loading transaction counts its own new rows."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"ANALYZE {table}"))
