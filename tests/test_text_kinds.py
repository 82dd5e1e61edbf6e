"""A text's kind decides its consent, its cap and its recipient (loopstrat/texts/kinds.py), and a
kind nobody wrote a rule for is never sent: it used to go out as a reply to the inquiry."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from loopstrat import runtime
from loopstrat.compliance.gates import Purpose
from loopstrat.conversations.texts import send_stored, store_text
from loopstrat.models import Account, Contact, Message
from loopstrat.texts.kinds import RECEIVED, RULES, Recipient, TextKind, UnknownKind, rule_of
from tests.leads_helpers import post_lead
from tests.twilio_inbound import JANE


def jane(db, account) -> Contact:
    return db.scalars(select(Contact).where(Contact.account_id == account.id)).one()


def test_a_text_of_an_unknown_kind_cannot_be_stored(rt, client, account, twilio, worker, db):
    post_lead(client, account)
    worker()
    contact_id = jane(db, account).id
    with rt.sessions() as session, pytest.raises(UnknownKind):
        store_text(session, key="k1", account=session.get_one(Account, account.id), to=JANE,
                   kind="mystery", body="Acme Plumbing: hi. Reply STOP to opt out.",
                   drafted_by="template", contact_id=contact_id, lead_id=None)  # fmt: skip


def test_a_stored_text_whose_kind_has_no_rule_is_not_sent(rt, client, account, twilio, worker, db):
    post_lead(client, account)
    worker()
    sent_before = len(twilio.created)
    with rt.sessions() as session:
        msg = store_text(session, key="k2", account=session.get_one(Account, account.id),
                         to=JANE, kind=TextKind.FOLLOW_UP, body="Acme Plumbing: hi again.",
                         drafted_by="template", contact_id=jane(db, account).id,
                         lead_id=None)  # fmt: skip
        session.commit()
        # A row written by some other version, or by hand, with a kind nobody knows.
        session.execute(update(Message).where(Message.id == msg.id).values(kind="promo_blast"))
        session.commit()
        message_id = msg.id
    outcome = send_stored(runtime.current(), message_id)
    assert outcome is not None and (outcome.result, outcome.reason) == ("blocked", "unknown_kind")
    assert len(twilio.created) == sent_before


def test_every_kind_has_a_rule_or_is_received_and_campaigns_are_capped():
    assert set(TextKind) == set(RULES) | RECEIVED
    assert rule_of("reactivation").purpose == Purpose.MARKETING and rule_of("reactivation").capped
    assert rule_of("review_request").purpose == Purpose.JOB_FOLLOW_UP
    assert not rule_of("follow_up").capped
    assert rule_of("alert").to == Recipient.ALERT_PHONE
    with pytest.raises(UnknownKind):
        rule_of("inbound")  # received, never sent
