"""Index changes on the big tables (leads, messages, outbox, enrollments) that never block
intake during a deploy: on PostgreSQL each is built or dropped CONCURRENTLY.

A plain CREATE INDEX holds a lock that stops every insert into its table until the build ends
(seconds to minutes on millions of rows: every lead post waits). CONCURRENTLY lets writes go on,
and cannot run in a transaction, so each runs in an autocommit block of its own. A concurrent
build that fails leaves an invalid index behind: it is dropped first, so a rerun goes through.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alembic import op


def _postgresql() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def create_index(name: str, table: str, columns: Sequence[str], **options: Any) -> None:
    if not _postgresql():
        op.create_index(name, table, list(columns), **options)
        return
    with op.get_context().autocommit_block():
        op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
        op.create_index(name, table, list(columns), postgresql_concurrently=True, **options)


def drop_index(name: str, table: str) -> None:
    if not _postgresql():
        op.drop_index(name, table_name=table)
        return
    with op.get_context().autocommit_block():
        op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
