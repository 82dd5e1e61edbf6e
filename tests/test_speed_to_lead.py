"""The spine, end to end: a form post becomes exactly one text through Twilio."""

from __future__ import annotations

from sqlalchemy import select

from loopstrat.models import ConsentEvent, Lead, Message, Outbox
from tests.conftest import PUBLIC_BASE_URL
from tests.leads_helpers import LEAD, post_lead


def test_form_post_becomes_one_text_from_the_account_number(
    client, account, twilio, worker, clock, db
):
    response = post_lead(client, account)
    assert response.status_code == 202
    lead_id = response.get_json()["lead_id"]

    worker()

    assert len(twilio.created) == 1
    params = twilio.params_of_calls()[0]
    assert params["To"] == "+18015550142"
    assert params["From"] == "+18015550111"
    assert params["StatusCallback"] == f"{PUBLIC_BASE_URL}/twilio/status"
    assert params["ValidityPeriod"] == "600"
    assert params["Body"].startswith("Acme Plumbing")
    assert "Reply STOP to opt out" in params["Body"]
    assert "Jane" in params["Body"]

    lead = db.get(Lead, lead_id)
    assert lead.response_state == "responded"
    assert lead.status == "responded"
    assert lead.first_response_at is not None
    assert lead.first_response_at >= lead.received_at
    msg = db.scalars(select(Message).where(Message.lead_id == lead_id)).one()
    assert msg.twilio_sid == twilio.created[0]["sid"]
    assert msg.status == "queued"
    assert msg.drafted_by == "template"
    assert msg.segments == 1
    outbox_row = db.scalars(select(Outbox)).one()
    assert outbox_row.state == "done"


def test_consent_evidence_is_stored_with_the_lead(client, account, twilio, clock, db):
    response = post_lead(
        client,
        account,
        data={**LEAD, "page_url": "https://acmeplumbing.com/contact"},
        headers={"User-Agent": "Mozilla/5.0 test"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert response.status_code == 202
    event = db.scalars(select(ConsentEvent)).one()
    assert event.kind == "inquiry"
    assert event.text_shown == account.consent_text
    assert event.ip == "203.0.113.9"
    assert event.user_agent == "Mozilla/5.0 test"
    assert event.page_url == "https://acmeplumbing.com/contact"
