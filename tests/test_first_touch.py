"""A lead's first answer is written on the lead: the earliest text that answers it, whoever
wrote it, whatever order the sends settle in; texts that do not answer it never count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loopstrat.leads.first_touch import stamp_first_touch
from loopstrat.models import Contact, Lead, Message
from tests.conftest import make_account

RECEIVED = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)


@pytest.fixture
def lead(rt, db):
    account = make_account(rt)
    contact = Contact(account_id=account.id, phone="+18015550101", consent_at=RECEIVED)
    db.add(contact)
    db.flush()
    lead = Lead(account_id=account.id, contact_id=contact.id, received_at=RECEIVED)
    db.add(lead)
    db.commit()
    return lead


def sent(db, lead, after_s: float, kind: str, author: str | None, *, delivered=True) -> int:
    at = RECEIVED + timedelta(seconds=after_s)
    msg = Message(
        account_id=lead.account_id, contact_id=lead.contact_id, lead_id=lead.id, direction="out",
        kind=kind, to_phone="+18015550101", from_phone="+18015550111", body="x",
        status="delivered" if delivered else "deferred", drafted_by=author, created_at=at,
        sent_at=at if delivered else None, segments=1 if delivered else None,
    )  # fmt: skip
    db.add(msg)
    db.commit()
    return msg.id


def stamp(db, message_id: int) -> Lead:
    stamp_first_touch(db, message_id)
    db.commit()
    db.expire_all()
    return db.get(Lead, db.get(Message, message_id).lead_id)


def test_the_earliest_answer_wins_whatever_order_the_sends_settle_in(db, lead):
    later = sent(db, lead, 300, "human_reply", "person")
    earlier = sent(db, lead, 20, "first_reply", None)
    stamped = stamp(db, later)
    assert (stamped.first_touch_by, stamped.first_response_s) == ("person", 300)
    stamped = stamp(db, earlier)
    # drafted_by None is the template (the first reply's fallback author).
    assert (stamped.first_touch_by, stamped.first_response_s) == ("template", 20)
    assert stamped.first_response_at == RECEIVED + timedelta(seconds=20)
    assert stamp(db, later).first_touch_by == "template"  # settling again changes nothing


@pytest.mark.parametrize(
    "kind",
    ["alert", "alert_answer", "opt_out_confirm", "opt_in_confirm", "help", "review_request"],
)
def test_texts_that_do_not_answer_the_inquiry_never_count(db, lead, kind):
    stamped = stamp(db, sent(db, lead, 5, kind, "template"))
    assert (stamped.first_response_at, stamped.first_response_s, stamped.first_touch_by) == (
        None,
        None,
        None,
    )


def test_a_text_not_sent_yet_does_not_count(db, lead):
    stamped = stamp(db, sent(db, lead, 5, "follow_up", "claude", delivered=False))
    assert stamped.first_response_at is None
    stamped = stamp(db, sent(db, lead, 40, "follow_up", "claude"))
    assert (stamped.first_touch_by, stamped.first_response_s) == ("claude", 40)
