"""Nothing personal leaves in a log line: phones, emails and secrets are masked whichever code
(ours, the database driver's, Twilio's SDK, RQ's) wrote the line or raised the error."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from twilio.base.exceptions import TwilioRestException

from loopstrat import runtime
from loopstrat.clock import utcnow
from loopstrat.logs import mask_personal, setup_logging
from loopstrat.models import Contact, Message
from loopstrat.sms.outbound import CLAIM_LEASE
from tests.leads_helpers import LEAD, post_lead
from tests.twilio_inbound import JANE, inbound_params, post_inbound
from workers.queues import DEFAULT_QUEUE, queue
from workers.scheduler import dispatch_due
from workers.worker import LoopstratWorker

PAT = "patAbCdEfGhIjKlMn." + "0123456789abcdef" * 4
PSYCOPG_UNIQUE = (
    "(psycopg.errors.UniqueViolation) duplicate key value violates unique constraint "
    '"contacts_account_id_phone_key"\n'
    "DETAIL:  Key (account_id, phone)=(1, +18015550142) already exists.\n"
    "[SQL: INSERT INTO contacts (account_id, phone) VALUES (%(account_id)s, %(phone)s)]"
)
PSYCOPG_NOT_NULL = (
    '(psycopg.errors.NotNullViolation) null value in column "kind" of relation "messages"\n'
    "DETAIL:  Failing row contains (7, 1, 3, null, in, null, +18015550111, +18015550142, "
    "Water heater leaking at 12 Elm St, received)."
)


def twilio_error() -> str:
    """str() of what twilio 9 raises on error 21211, with the message Twilio's API returns."""
    return str(
        TwilioRestException(
            400,
            "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages.json",
            msg="Unable to create record: The 'To' number +18015550142 is not a valid phone "
            "number.",
            code=21211,
            method="POST",
        )
    )


@pytest.mark.parametrize(
    ("text", "secret", "kept"),
    [
        (PSYCOPG_UNIQUE, "+18015550142", "Key (account_id, phone)=(***) already exists"),
        (PSYCOPG_NOT_NULL, "Elm St", "Failing row contains (***)"),
        (twilio_error(), "8015550142", "The 'To' number ***0142 is not a valid"),
        ("alert to=801-555-0142 sent", "555-0142", "alert to=***0142 sent"),
        ("GET /Messages.json?To=%2B18015550142&PageSize=20", "8015550142", "To=***0142&"),
        ("lead from (801) 555 0142", "555 0142", "lead from ***0142"),
        ("reply to jane.doe+leads@example.com", "jane.doe", "reply to ***@***"),
        ("Authorization: Bearer sk-ant-api03-AbC_123xyz", "AbC_123xyz", "Bearer ***"),
        ("Authorization: Bearer " + PAT, PAT[3:], "Bearer ***"),
        (f"token {PAT} refused", PAT[3:], "token pat*** refused"),
        ("redis://default:hunter2hunter2@cache:6379/0", "hunter2", "redis://***:***@cache"),
        ("POST /x?auth_token=abc123def&sid=SM1", "abc123def", "auth_token=***&sid=SM1"),
    ],
)
def test_the_mask_hides_the_personal_part_and_keeps_the_rest(text, secret, kept):
    assert secret in text
    masked = mask_personal(text)
    assert secret not in masked
    assert kept in masked


@pytest.mark.parametrize(
    "text",
    [
        "ts=2026-12-03 07:55:37,123 level=INFO logger=rq.worker",
        "respond_to_lead lead_id=8015 message_id=550142 account_id=1",
        "sid=SM0123456789abcdef0123456789abcdef job=5f1c8d2e-8015-4555-0142-9a1b2c3d4e5f",
        "client 203.0.113.9 epoch=1764748537 took_ms=1234",
    ],
)
def test_the_mask_leaves_ids_times_and_addresses_alone(text):
    assert mask_personal(text) == text


@pytest.fixture
def logged() -> io.StringIO:
    """What the process writes to stderr, through the handler production installs (conftest
    takes it off after the test)."""
    out = io.StringIO()
    setup_logging("INFO", stream=out)
    return out


def assert_nothing_personal(text: str) -> None:
    for personal in ("8015550142", "801-555-0142", "555-0142", "jane@example.com", "Jane Doe"):
        assert personal not in text
    assert "leaking" not in text  # the lead's message


def test_a_real_unique_violation_logged_with_its_traceback_is_masked(rt, account, db, logged):
    db.add(Contact(account_id=account.id, phone=JANE, created_at=utcnow()))
    db.commit()
    db.add(Contact(account_id=account.id, phone=JANE, created_at=utcnow()))
    with pytest.raises(IntegrityError) as raised:
        db.commit()
    db.rollback()
    if rt.engine.dialect.name == "postgresql":
        assert JANE in str(raised.value)  # psycopg's DETAIL quotes the row
    logging.getLogger("loopstrat.test").error("store failed", exc_info=raised.value)
    output = logged.getvalue()
    assert "IntegrityError" in output and "contacts" in output
    assert JANE not in output and "8015550142" not in output


@contextmanager
def losing_races(account, sid: str, *, message_too: bool) -> Iterator[dict[str, Any]]:
    """Another request commits just before the webhook's inserts: the same new number's contact
    first; then, if asked, a Twilio retry's message with the same MessageSid. Yields what is
    still to happen (empty once every race was run)."""
    current = runtime.current()  # the app's: create_app configured its own
    pending: dict[str, Any] = {"INSERT INTO contacts": contact_first}
    if message_too:
        pending["INSERT INTO messages"] = message_first

    def competitor(conn, cursor, statement, parameters, context, executemany):
        for prefix in list(pending):
            if statement.startswith(prefix):
                pending.pop(prefix)(current, account, sid)

    event.listen(current.engine, "before_cursor_execute", competitor)
    try:
        yield pending
    finally:
        event.remove(current.engine, "before_cursor_execute", competitor)


def contact_first(rt, account, _sid: str) -> None:
    with rt.sessions() as other:
        other.add(Contact(account_id=account.id, phone=JANE, created_at=utcnow()))
        other.commit()


def message_first(rt, account, sid: str) -> None:
    with rt.sessions() as other:
        contact = other.scalars(select(Contact).where(Contact.phone == JANE)).one()
        other.add(
            Message(
                account_id=account.id,
                contact_id=contact.id,
                direction="in",
                kind="inbound",
                twilio_sid=sid,
                to_phone=account.twilio_number,
                from_phone=JANE,
                body="Water heater leaking, jane@example.com",
                status="received",
            )
        )
        other.commit()


def test_a_first_text_that_loses_the_race_for_its_contact_is_stored_once_and_logs_no_phone(
    client, rt, account, db, logged
):
    params = inbound_params(account.twilio_number, "Water heater leaking, jane@example.com")
    with losing_races(account, params["MessageSid"], message_too=False) as pending:
        answer = post_inbound(client, params)
    assert pending == {}  # the race was run
    assert answer.status_code == 200
    assert len(db.scalars(select(Contact)).all()) == 1
    assert db.scalars(select(Message)).one().twilio_sid == params["MessageSid"]
    assert_nothing_personal(logged.getvalue())


def test_an_inbound_text_that_loses_two_races_logs_the_constraint_never_the_row(
    client, rt, account, db, logged
):
    if rt.engine.dialect.name != "postgresql":
        pytest.skip("SQLite admits one writer: no other request commits inside our transaction")
    params = inbound_params(account.twilio_number, "Water heater leaking, jane@example.com")
    with losing_races(account, params["MessageSid"], message_too=True) as pending:
        answer = post_inbound(client, params)
    assert pending == {}
    assert answer.status_code == 500  # Twilio's retry of the same sid then finds it stored
    output = logged.getvalue()
    assert f"inbound not stored sid={params['MessageSid']} constraint=messages_twilio_sid_key" in (
        output
    )
    assert "Traceback" not in output
    assert_nothing_personal(output)


def test_twilio_sdk_request_logs_carry_no_phone(client, account, rt, twilio, worker, clock, logged):
    twilio.fail_next(500, 20500)  # unknown outcome: the retry lists Messages by To and From
    post_lead(client, account, {**LEAD, "email": "jane@example.com"})
    worker()
    clock.shift(CLAIM_LEASE + timedelta(seconds=1))
    dispatch_due(rt)
    worker()
    assert any(call.request.method == "GET" for call in twilio.mock.calls)
    assert len(twilio.created) == 1
    assert_nothing_personal(logged.getvalue())


def insert_duplicate_contact(account_id: int, phone: str) -> None:
    """A job that breaks a unique constraint, as a bug in a real job would."""
    with runtime.current().sessions() as session:
        for _ in range(2):
            session.add(Contact(account_id=account_id, phone=phone, created_at=utcnow()))
            session.flush()


def test_a_failed_job_is_logged_and_kept_by_rq_without_the_phone(rt, account, logged):
    texts = queue(rt, DEFAULT_QUEUE)
    job = texts.enqueue(insert_duplicate_contact, account.id, JANE)
    LoopstratWorker([texts], connection=rt.redis).work(burst=True, with_scheduler=False)
    job.refresh()
    assert job.is_failed
    kept = job.latest_result().exc_string
    assert "IntegrityError" in kept and JANE not in kept
    output = logged.getvalue()
    assert "IntegrityError" in output
    assert JANE not in output and "8015550142" not in output


def test_claude_requests_are_not_logged_even_at_debug(
    client, account, claude, twilio, worker, clock, logged
):
    setup_logging("DEBUG", stream=logged)  # an operator chasing a problem turns logs up
    claude.reply(
        "Acme Plumbing here, Jane: sorry about the leaking water heater! What's the address? "
        "Reply STOP to opt out."
    )
    post_lead(client, account)
    worker()
    assert "leaking" in claude.requests[0]["messages"][0]["content"]  # the prompt carried it
    assert len(twilio.sent) == 1
    assert_nothing_personal(logged.getvalue())
