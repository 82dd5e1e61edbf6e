"""The migrated schema is the models' schema: a model change without its migration fails here."""

from __future__ import annotations

import re
import uuid

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event, text

from loopstrat.db import Base
from loopstrat.migrate import alembic_config


def test_migrations_match_the_models(rt):
    with rt.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


# Where a plain CREATE INDEX would stop every lead post until the build ended.
BIG_TABLES = ("leads", "messages", "outbox", "enrollments")


def index_table(statement: str) -> str | None:
    """The table a CREATE INDEX or DROP INDEX statement is about (a dropped one's by its name,
    ix_<table>_...); None for any other statement."""
    if found := re.match(r"CREATE (?:UNIQUE )?INDEX .* ON (\w+)", statement):
        return found.group(1)
    if found := re.match(r"DROP INDEX (?:CONCURRENTLY )?(?:IF EXISTS )?ix_([a-z]+)_", statement):
        return found.group(1)
    return None


def test_indexes_on_the_big_tables_are_built_and_dropped_concurrently_on_postgresql(rt):
    if rt.engine.dialect.name != "postgresql":
        pytest.skip("CONCURRENTLY is PostgreSQL's; SQLite has no concurrent writers to block")
    name = f"migrations_{uuid.uuid4().hex[:8]}"
    admin = rt.engine.execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = rt.engine.url.set(database=name).render_as_string(hide_password=False)
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        config = alembic_config(url)
        slow = []
        for _ in ScriptDirectory.from_config(config).walk_revisions():
            statements.clear()
            command.upgrade(config, "+1")  # one revision at a time
            created = {s.split()[2] for s in statements if s.startswith("CREATE TABLE")}
            slow += [
                s
                for s in statements
                if (table := index_table(s)) in BIG_TABLES
                and table not in created  # a new table has no writers to block
                and "CONCURRENTLY" not in s
            ]
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    # PostgreSQL refuses CONCURRENTLY inside a transaction: that these ran shows they ran
    # outside the migration's.
    assert slow == []
