"""One account's sync: drain its journal to Airtable in batches of at most 10 records, each
batch one paced request, upserting on the Loopstrat ID so a replay never duplicates a row.

Runs only in the crm worker (or the backfill command). Never sleeps longer than a request slot:
a paused or busy base hands the job back to the outbox with a due time instead.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import redis
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from loopstrat import outbox
from loopstrat.clock import utcnow
from loopstrat.crm import health
from loopstrat.crm.airtable import AirtableClient, AirtableError, SlotWait, make_api
from loopstrat.crm.connection import AirtableSettingsError, connection_of
from loopstrat.crm.pacing import PAUSE_AFTER_429_S, BaseLimiter
from loopstrat.crm.records import (
    KEY_FIELD,
    TABLE_OF,
    contact_fields,
    key_of,
    lead_fields,
    message_fields,
)
from loopstrat.journal import waiting, wake_sync
from loopstrat.models import Account, Contact, CrmChange, Lead, Message
from loopstrat.outbox import Kind
from loopstrat.runtime import Runtime

log = logging.getLogger(__name__)

BATCH = 10  # Airtable takes at most 10 records per write
BUDGET_S = 30.0  # with a slow last request still inside the 60 s job timeout
LOCK_TTL_S = 90
TRANSIENT_BACKOFF_S = (5, 15, 60, 180, 600)
REJECTED_RETRY = timedelta(minutes=10)  # a 4xx needs a person: look again now and then


@dataclass(frozen=True)
class SyncResult:
    """done | more | waiting (base paused or busy) | failed | busy (another sync) | off."""

    state: str
    synced: int = 0
    until: datetime | None = None
    error: str | None = None
    # Set once per long failing streak: its start, for the one alert to the contractor (the
    # job stores it: texts belong to conversations, which the sync must not import).
    alert_since: datetime | None = None


def sync_account(
    rt: Runtime,
    account_id: int,
    *,
    sleep: Callable[[float], None] = time.sleep,
    budget_s: float = BUDGET_S,
) -> SyncResult:
    with rt.sessions() as session:
        account = session.get(Account, account_id)
        try:
            conn = connection_of(rt.settings, account) if account else None
        except AirtableSettingsError as exc:
            return _settle(rt, account_id, SyncResult("failed", error=str(exc)))
        if conn is None:
            outbox.finish(session, Kind.CRM_SYNC, str(account_id), state="cancelled", reason="off")
            session.commit()
            return SyncResult("off")
    lock_key, owner = f"crm:sync:{account_id}", uuid.uuid4().hex
    if not rt.redis.set(lock_key, owner, nx=True, ex=LOCK_TTL_S):
        return SyncResult("busy")  # the running sync looks for new changes when it finishes
    try:
        api = make_api(rt.settings.airtable_api_url, conn.token)
        client = AirtableClient(conn, api, BaseLimiter(rt.redis), sleep)
        result = _drain(rt, client, time.monotonic() + budget_s)
    finally:
        _release(rt.redis, lock_key, owner)
    return _settle(rt, account_id, result)


def _release(conn: redis.Redis, lock_key: str, owner: str) -> None:
    """Delete the lock only if it is still ours, atomically: had it expired and another sync
    taken it between a GET and a DELETE, that sync's lock would go (WATCH, as fakeredis, the
    `make run` Redis without redis-server, has no Lua)."""
    with conn.pipeline() as pipe:
        try:
            pipe.watch(lock_key)  # type: ignore[no-untyped-call]
            if pipe.get(lock_key) == owner.encode():
                pipe.multi()
                pipe.delete(lock_key)
                pipe.execute()
        except redis.WatchError:
            pass  # it changed hands meanwhile: not ours to delete


def _drain(rt: Runtime, client: AirtableClient, deadline: float) -> SyncResult:
    synced = 0
    account_id = client.conn.account_id
    while True:
        with rt.sessions() as session:
            batch = _next_batch(session, account_id)
            if not batch:
                return SyncResult("done", synced)
            if time.monotonic() > deadline:
                return SyncResult("more", synced)
            try:
                _push(session, client, batch)
            except SlotWait as wait:
                return SyncResult("waiting", synced, utcnow() + timedelta(seconds=wait.seconds))
            except AirtableError as exc:
                return SyncResult("failed", synced, error=str(exc), until=_retry_at(exc))
            _forget(session, batch)
            session.commit()
            synced += len(batch)


def _retry_at(exc: AirtableError) -> datetime | None:
    """When to try again; None: back off by attempts (5xx, timeouts)."""
    if exc.kind == "rate_limited":
        return utcnow() + timedelta(seconds=PAUSE_AFTER_429_S)
    return utcnow() + REJECTED_RETRY if exc.kind == "rejected" else None


def _next_batch(session: Session, account_id: int) -> list[CrmChange]:
    """Up to 10 changes of the oldest change's kind (entity and op), oldest first."""
    first = session.scalar(
        select(CrmChange).where(CrmChange.account_id == account_id).order_by(CrmChange.id).limit(1)
    )
    if first is None:
        return []
    return list(
        session.scalars(
            select(CrmChange)
            .where(
                CrmChange.account_id == account_id,
                CrmChange.entity == first.entity,
                CrmChange.op == first.op,
            )
            .order_by(CrmChange.id)
            .limit(BATCH)
        )
    )


def _forget(session: Session, batch: list[CrmChange]) -> None:
    # Only what we sent: a change journaled while the request was out stays for the next batch.
    for change in batch:
        session.execute(
            delete(CrmChange).where(
                CrmChange.id == change.id,
                CrmChange.op == change.op,
                CrmChange.changed_at == change.changed_at,
            )
        )


def _push(session: Session, client: AirtableClient, batch: list[CrmChange]) -> None:
    entity, account_id = batch[0].entity, batch[0].account_id
    table = client.table(TABLE_OF[entity])
    ids = [c.entity_id for c in batch]
    if batch[0].op == "delete":
        _delete_rows(client, table, [key_of(entity, i) for i in ids])
        return
    records = [{"fields": f} for f in _fields_of(session, account_id, entity, ids)]
    if records:  # rows deleted since (without a delete journaled) need nothing
        client.call(lambda: table.batch_upsert(records, key_fields=[KEY_FIELD], typecast=True))


def _fields_of(session: Session, account_id: int, entity: str, ids: list[int]) -> list[Any]:
    if entity == "contact":
        contacts = session.scalars(
            select(Contact).where(Contact.account_id == account_id, Contact.id.in_(ids))
        )
        return [contact_fields(c) for c in contacts]
    if entity == "lead":
        leads = list(
            session.scalars(select(Lead).where(Lead.account_id == account_id, Lead.id.in_(ids)))
        )
        people = {
            c.id: c
            for c in session.scalars(
                select(Contact).where(
                    Contact.account_id == account_id,
                    Contact.id.in_({lead.contact_id for lead in leads}),
                )
            )
        }
        return [lead_fields(lead, people.get(lead.contact_id)) for lead in leads]
    messages = session.scalars(
        select(Message).where(Message.account_id == account_id, Message.id.in_(ids))
    )
    return [message_fields(m) for m in messages]


def _delete_rows(client: AirtableClient, table: Any, keys: list[str]) -> None:
    """Find the rows by key (one request), then delete them by record id (10 per request)."""
    formula = "OR(" + ",".join(f"{{{KEY_FIELD}}}='{k}'" for k in keys) + ")"
    rows = client.call(lambda: table.all(formula=formula, fields=[KEY_FIELD], page_size=100))
    record_ids = [row["id"] for row in rows]
    for start in range(0, len(record_ids), BATCH):
        chunk = record_ids[start : start + BATCH]
        client.call(partial(table.batch_delete, chunk))


def _settle(rt: Runtime, account_id: int, result: SyncResult) -> SyncResult:
    """Write the outcome to the outbox row and the health state; name a long streak's start
    once, for its alert."""
    now, ref = utcnow(), str(account_id)
    with rt.sessions() as session:
        if result.state == "done":
            outbox.finish(session, Kind.CRM_SYNC, ref)
            health.record_success(session, account_id, now)
        elif result.state == "more":
            outbox.postpone(session, Kind.CRM_SYNC, ref, now)
            health.record_success(session, account_id, now)
        elif result.state == "waiting":
            # A waiting result names when to go again; else, at once (the pacer decides).
            outbox.postpone(session, Kind.CRM_SYNC, ref, result.until or now)
        elif result.state == "failed":
            until = result.until or _backoff(session, account_id, now)
            outbox.postpone(session, Kind.CRM_SYNC, ref, until)
            streak_start = health.record_failure(session, account_id, result.error or "", now)
            result = SyncResult("failed", result.synced, until, result.error, streak_start)
        session.commit()
        if result.state == "done" and waiting(session, account_id):
            wake_sync(session, account_id)  # journaled after our last look: go again
            session.commit()
    log.info(
        "crm sync account_id=%s state=%s synced=%d error=%s",
        account_id,
        result.state,
        result.synced,
        result.error,
    )
    return result


def _backoff(session: Session, account_id: int, now: datetime) -> datetime:
    row = outbox.find(session, Kind.CRM_SYNC, str(account_id))
    attempts = row.attempts if row else 0
    if row is not None:
        row.attempts = attempts + 1
    return now + timedelta(seconds=TRANSIENT_BACKOFF_S[min(attempts, len(TRANSIENT_BACKOFF_S) - 1)])
