"""The frequency cap, through the path every stored text takes (store_text, the dispatcher,
send_stored's gate): at most the account's cap of non-reply texts to one person in any 24
hours, whatever is queued; replies to the person's own inquiry are never capped."""

from __future__ import annotations

import threading
from datetime import timedelta
from email.utils import parsedate_to_datetime

import responses
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select

from loopstrat import runtime
from loopstrat.clock import utcnow
from loopstrat.conversations.texts import send_stored, store_text
from loopstrat.models import Account, Contact, Message
from tests.conftest import DAYTIME, _empty_tables, make_account
from tests.leads_helpers import post_lead
from tests.test_opt_out_race import CLAIM_STATEMENTS, STUCK_S
from tests.twilio_api import FakeTwilio
from workers.scheduler import dispatch_due

JANE = "+18015550142"
DAY = timedelta(hours=24)


def jane_agrees_to_marketing(rt, account) -> Contact:
    with rt.sessions() as session:
        contact = session.scalars(
            select(Contact).where(Contact.account_id == account.id, Contact.phone == JANE)
        ).one()
        contact.marketing_consent_at = utcnow()
        contact.follow_up_consent_at = utcnow()  # review requests: follow-ups about her job
        session.commit()
        return contact


def queue_text(rt, account, contact, key: str, kind: str, body: str) -> None:
    """Store a text and send it after the commit, as the conversations do."""
    with rt.sessions() as session:
        msg = store_text(
            session,
            key=key,
            account=session.get(Account, account.id),
            to=contact.phone,
            kind=kind,
            body=body,
            drafted_by="template",
            contact_id=contact.id,
            lead_id=None,
        )
        session.commit()
    send_stored(runtime.current(), msg.id)


def sent_at(twilio, prefix: str) -> list:
    return [
        parsedate_to_datetime(m["date_created"])
        for m in twilio.created
        if m["body"].startswith(prefix)
    ]


WEDNESDAY = DAYTIME + timedelta(days=7)


def test_a_fourth_campaign_text_in_a_day_waits_until_the_first_is_a_day_old(
    client, account, rt, twilio, worker, db
):
    # A week after DAYTIME: its next day is Thanksgiving, when Utah takes no offers at all.
    with time_machine.travel(WEDNESDAY, tick=False) as clock:
        post_lead(client, account)
        worker()
        contact = jane_agrees_to_marketing(rt, account)
        for n in range(3):
            queue_text(rt, account, contact, f"review-{n}", "review_request", f"Review {n}")
            clock.shift(timedelta(hours=1))
        queue_text(rt, account, contact, "reactivate-0", "reactivation", "Offer 0")
        queue_text(rt, account, contact, "human-0", "human_reply", "Mike here, see you at 10")
        assert [m["body"] for m in twilio.created[1:]] == [
            "Review 0",
            "Review 1",
            "Review 2",
            "Mike here, see you at 10",  # a person answering Jane is not capped
        ]
        held = db.scalars(select(Message).where(Message.idempotency_key == "reactivate-0")).one()
        assert (held.status, held.reason) == ("deferred", "frequency_cap")
        assert held.scheduled_for == WEDNESDAY + DAY

        clock.move_to(WEDNESDAY + DAY - timedelta(minutes=1))
        dispatch_due(rt)
        worker()
        assert len(twilio.created) == 5
        clock.move_to(WEDNESDAY + DAY)
        dispatch_due(rt)
        worker()
    assert [m["body"] for m in twilio.created[5:]] == ["Offer 0"]


def test_the_cap_is_the_account_s_and_counts_only_that_account_s_texts(
    client, rt, twilio, worker, db
):
    strict = make_account(rt, frequency_cap_24h=1)
    other = make_account(rt, name="Bolt Electric", twilio_number="+18015550112", zips="84101")
    with time_machine.travel(DAYTIME, tick=False):
        for account in (strict, other):
            post_lead(client, account)
            worker()
            contact = jane_agrees_to_marketing(rt, account)
            for n in range(2):
                key = f"{account.id}-review-{n}"
                queue_text(rt, account, contact, key, "review_request", f"{account.name} {n}")
    assert sent_at(twilio, "Acme Plumbing 0") and not sent_at(twilio, "Acme Plumbing 1")
    assert sent_at(twilio, "Bolt Electric 0") and sent_at(twilio, "Bolt Electric 1")


def test_a_capped_text_whose_send_was_lost_does_not_count_against_itself(
    client, rt, twilio, worker
):
    account = make_account(rt, frequency_cap_24h=1)
    with time_machine.travel(DAYTIME, tick=False) as clock:
        post_lead(client, account)
        worker()
        contact = jane_agrees_to_marketing(rt, account)
        twilio.time_out_next(after_accepting=False)  # the outcome is unknown: reconcile first
        queue_text(rt, account, contact, "review-0", "review_request", "Review 0")
        assert sent_at(twilio, "Review") == []
        for _ in range(5):
            clock.shift(timedelta(minutes=2))
            dispatch_due(rt)
            worker()
    assert sent_at(twilio, "Review") == [DAYTIME + timedelta(minutes=2)]


def test_two_capped_texts_claimed_at_once_are_counted_in_turn(client, rt, twilio, worker):
    """The first claim has decided, holding the contact, when a second worker reaches its own
    claim for another capped text to the same person: the second must wait for the first to
    commit, count it, and hold its text."""
    account = make_account(rt, frequency_cap_24h=1)
    with time_machine.travel(DAYTIME, tick=False):
        post_lead(client, account)
        worker()
        contact = jane_agrees_to_marketing(rt, account)
        ids = [store_only(rt, account, contact, f"review-{n}", f"Review {n}") for n in range(2)]
        engine = runtime.current().engine
        second = threading.Thread(target=send_stored, args=(runtime.current(), ids[1]))
        first_id, first_decided, second_claiming = threading.get_ident(), [], threading.Event()

        def claims_meet(conn, cursor, statement, parameters, context, executemany) -> None:
            if threading.get_ident() == first_id:
                if statement.startswith("UPDATE messages") and not first_decided:
                    first_decided.append(statement)
                    second.start()
                    assert second_claiming.wait(STUCK_S)
            elif any(s in statement for s in (*CLAIM_STATEMENTS, "UPDATE messages")):
                second_claiming.set()

        event.listen(engine, "before_cursor_execute", claims_meet)
        try:
            send_stored(runtime.current(), ids[0])
            second.join()
        finally:
            event.remove(engine, "before_cursor_execute", claims_meet)
    assert first_decided and second_claiming.is_set()
    assert [m["body"] for m in twilio.created[1:]] == ["Review 0"]


def store_only(rt, account, contact, key: str, body: str) -> int:
    with rt.sessions() as session:
        msg = store_text(
            session,
            key=key,
            account=session.get(Account, account.id),
            to=contact.phone,
            kind="review_request",
            body=body,
            drafted_by="template",
            contact_id=contact.id,
            lead_id=None,
        )
        session.commit()
        return msg.id


steps = st.lists(
    st.one_of(
        st.tuples(st.just("queue"), st.sampled_from(["review_request", "reactivation"])),
        st.tuples(st.just("wait"), st.integers(1, 20 * 60)),
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=steps, cap=st.integers(1, 4))
def test_never_more_than_the_cap_in_any_24_hours_and_every_text_goes_in_the_end(
    rt, app, worker, plan, cap
):
    _empty_tables(rt)
    rt.redis.flushdb()
    account = make_account(rt, frequency_cap_24h=cap)
    queued = 0
    with (
        time_machine.travel(DAYTIME, tick=False) as clock,
        responses.RequestsMock(assert_all_requests_are_fired=False) as mock,
    ):
        twilio = FakeTwilio(mock)
        twilio.install()
        post_lead(app.test_client(), account)
        worker()
        contact = jane_agrees_to_marketing(rt, account)
        for action, arg in plan:
            if action == "queue":
                queued += 1
                queue_text(rt, account, contact, f"c-{queued}", arg, f"Campaign {queued}")
            else:
                clock.shift(timedelta(minutes=arg))
                if dispatch_due(rt):
                    worker()
        for _ in range(queued * 24 // cap + 48):  # hours: enough for all of them to go
            clock.shift(timedelta(hours=1))
            if dispatch_due(rt):
                worker()
    went = sorted(sent_at(twilio, "Campaign"))
    assert len(went) == queued
    for first in went:
        assert len([t for t in went if first <= t < first + DAY]) <= cap
