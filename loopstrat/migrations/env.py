"""Alembic environment: migrates the database named by the runtime settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from loopstrat import models  # noqa: F401 - registers the tables on Base.metadata
from loopstrat.db import Base, make_engine

target_metadata = Base.metadata


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


url = context.config.get_main_option("sqlalchemy.url")
assert url, "sqlalchemy.url must be set by loopstrat.migrate"
existing = context.config.attributes.get("connection")
if existing is not None:
    run(existing)
else:
    engine = make_engine(url)
    with engine.connect() as conn:
        run(conn)
    engine.dispose()
