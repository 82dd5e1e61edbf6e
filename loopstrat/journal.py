"""The change journal: which contacts, leads and messages still have to reach Airtable.

note_change is called inside the transaction that makes the change, so a committed change is
never forgotten; one row per record coalesces repeats. With no token it writes nothing at all.
It sits below every feature that changes a record; the crm package reads it, never the reverse.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from loopstrat.clock import utcnow
from loopstrat.db import Base
from loopstrat.models import Account, Contact, CrmChange, Lead, Message, Outbox
from loopstrat.outbox import Kind

ENTITIES = ("contact", "lead", "message")


def is_connected(account: Account) -> bool:
    """The account's sync is on: a token and a base (crm/connection.py stores both)."""
    return bool(account.airtable_token_encrypted and account.airtable_base_id)


def note_change(
    session: Session, account_id: int, entity: str, entity_id: int, *, op: str = "upsert"
) -> bool:
    """Journal one record for the next sync; False (nothing written) when the sync is off."""
    if entity not in ENTITIES or op not in ("upsert", "delete"):
        raise ValueError(f"cannot journal {op} of {entity!r}")
    account = session.get(Account, account_id)
    if account is None or not is_connected(account):
        return False
    _journal(session, account_id, [(entity, entity_id)], op)
    wake_sync(session, account_id)
    return True


def note_deleted(session: Session, account_id: int, records: list[tuple[str, int]]) -> bool:
    """Journal rows to delete from Airtable (their records are gone here); False when off."""
    account = session.get(Account, account_id)
    if account is None or not is_connected(account) or not records:
        return False
    _journal(session, account_id, records, "delete")
    wake_sync(session, account_id)
    return True


def note_all(session: Session, account_id: int) -> int:
    """Journal the account's whole history (backfill); the caller commits. How many records."""
    noted = 0
    for entity, model in (("contact", Contact), ("lead", Lead), ("message", Message)):
        ids = session.scalars(select(model.id).where(model.account_id == account_id)).all()
        _journal(session, account_id, [(entity, i) for i in ids], "upsert")
        noted += len(ids)
    if noted:
        wake_sync(session, account_id)
    return noted


def waiting(session: Session, account_id: int) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(CrmChange).where(CrmChange.account_id == account_id)
        )
        or 0
    )


def _journal(
    session: Session, account_id: int, records: Iterable[tuple[str, int]], op: str
) -> None:
    # INSERT … ON CONFLICT DO UPDATE: a status callback and the reply job may journal the same
    # message at the same moment; a select-then-insert would fail one of them on the unique key.
    now = utcnow()
    rows = [
        {"account_id": account_id, "entity": e, "entity_id": i, "op": op, "changed_at": now}
        for e, i in records
    ]
    for start in range(0, len(rows), 500):
        stmt = _insert(session, CrmChange).values(rows[start : start + 500])
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=["account_id", "entity", "entity_id"],
                set_={"op": stmt.excluded.op, "changed_at": stmt.excluded.changed_at},
            )
        )


def _insert(session: Session, model: type[Base]) -> Any:
    """The dialect's INSERT, which has ON CONFLICT on both PostgreSQL and SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def wake_sync(session: Session, account_id: int) -> None:
    """One pending sync per account. Touching the row (an UPDATE, so a row lock on PostgreSQL)
    orders this transaction against a sync that is finishing: either the sync sees this change
    when it looks again after finishing, or this update re-opens the row it finished."""
    ref, now = str(account_id), utcnow()
    values = {"account_id": account_id, "kind": Kind.CRM_SYNC, "ref_id": ref, "due_at": now}
    values |= {"state": "pending", "attempts": 0, "created_at": now}
    session.execute(_insert(session, Outbox).values(values).on_conflict_do_nothing())
    mine = (Outbox.kind == Kind.CRM_SYNC, Outbox.ref_id == ref)
    session.execute(update(Outbox).where(*mine, Outbox.state == "pending").values(state="pending"))
    session.execute(
        update(Outbox)
        .where(*mine, Outbox.state != "pending")
        .values(state="pending", due_at=now, enqueued_at=None, attempts=0, reason=None)
    )
