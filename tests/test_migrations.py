"""The migrated schema is the models' schema: a model change without its migration fails here."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from loopstrat.db import Base


def test_migrations_match_the_models(rt):
    with rt.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
