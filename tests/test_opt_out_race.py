"""A STOP racing the first reply's claim, on two real connections: the claim locks the contact
and decides again under the lock, so an opt-out that commits before the claim, or is being
written while the claim starts, stops the text. On SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select, text

from loopstrat import runtime
from loopstrat.clock import utcnow
from loopstrat.conversations.inbound import InboundText, record_inbound
from loopstrat.models import Message
from tests.leads_helpers import post_lead

JANE = "+18015550142"
# Guards against a deadlocked test, not a timing bound: every wait ends as soon as the other
# side acts.
STUCK_S = 60
# The claim's first statement: SQLite takes its write lock, PostgreSQL locks the contact row.
# Code that claims without them reaches its INSERT first: the race must be run there too.
CLAIM_STATEMENTS = ("BEGIN IMMEDIATE", "FOR NO KEY UPDATE", "INSERT INTO messages")


@contextmanager
def at_the_claim(on_claim: Callable[[Any], None]) -> Iterator[None]:
    """Run `on_claim` in this thread just before its first claim statement reaches the
    database (the worker runs jobs in this thread)."""
    engine = runtime.current().engine
    me, fired = threading.get_ident(), []

    def before(conn, cursor, statement, parameters, context, executemany) -> None:
        claiming = any(s in statement for s in CLAIM_STATEMENTS)
        if claiming and not fired and threading.get_ident() == me:
            fired.append(statement)
            on_claim(conn)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert fired, "the claim was never reached"


def stop_from_jane(session, account) -> None:
    inbound = InboundText(sid="SM" + "5" * 32, to=account.twilio_number, from_=JANE, body="STOP")
    record_inbound(session, inbound, utcnow())


def assert_only_the_confirmation_went(db, twilio) -> None:
    db.expire_all()
    reply = db.scalars(select(Message).where(Message.kind == "first_reply")).one()
    assert (reply.status, reply.reason) == ("suppressed", "opted_out")
    confirm = db.scalars(select(Message).where(Message.kind == "opt_out_confirm")).one()
    assert [m["Body"] for m in twilio.sent] == [confirm.body]


def test_a_stop_committed_just_before_the_claim_stops_the_reply(
    client, account, rt, twilio, worker, clock, db
):
    claim_reached, opted_out = threading.Event(), threading.Event()

    def stop_arrives() -> None:
        assert claim_reached.wait(STUCK_S)
        with rt.sessions() as session:
            stop_from_jane(session, account)
            session.commit()
        opted_out.set()

    def claim_meets_stop(_conn: Any) -> None:
        claim_reached.set()
        assert opted_out.wait(STUCK_S)

    post_lead(client, account)
    webhook = threading.Thread(target=stop_arrives)
    webhook.start()
    with at_the_claim(claim_meets_stop):
        worker()
    webhook.join()
    assert_only_the_confirmation_went(db, twilio)


def test_a_stop_being_written_when_the_claim_starts_holds_the_claim_until_it_commits(
    client, account, rt, twilio, worker, clock, db
):
    """The webhook has written the opt-out but not committed when the claim starts: the claim
    waits for it, then sees it. On PostgreSQL the webhook commits only once the server shows
    the claim blocked by it; on SQLite its write lock holds the claim's BEGIN IMMEDIATE."""
    claim_starting, written, claim_done = threading.Event(), threading.Event(), threading.Event()
    claim_pid: list[int] = []

    def stop_arrives() -> None:
        assert claim_starting.wait(STUCK_S)
        with rt.sessions() as session:
            stop_from_jane(session, account)
            session.flush()
            written.set()
            if claim_pid:
                while not claim_done.is_set() and not _blocked_by(session, claim_pid[0]):
                    pass  # each turn is a round trip to the server, not a sleep
            session.commit()

    def claim_starts(conn: Any) -> None:
        if conn.dialect.name == "postgresql":
            claim_pid.append(conn.connection.dbapi_connection.info.backend_pid)
        claim_starting.set()
        assert written.wait(STUCK_S)

    post_lead(client, account)
    webhook = threading.Thread(target=stop_arrives)
    webhook.start()
    with at_the_claim(claim_starts):
        worker()
    claim_done.set()
    webhook.join()
    assert_only_the_confirmation_went(db, twilio)


def _blocked_by(session, pid: int) -> bool:
    mine = session.scalar(text("SELECT pg_backend_pid()"))
    blockers = session.scalar(text("SELECT pg_blocking_pids(:pid)"), {"pid": pid})
    return mine in (blockers or [])
