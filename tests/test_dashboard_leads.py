"""The lead feed and a lead's conversation page, through the Flask test client."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import time_machine
from sqlalchemy import select

from loopstrat.models import Lead, Message
from tests.conftest import make_account
from tests.dashboard_helpers import add_draft, csrf_token, make_user, signed_in_client
from tests.leads_helpers import LEAD, post_lead
from tests.twilio_inbound import JANE, text_in

NIGHT = datetime(2026, 11, 26, 5, 30, tzinfo=UTC)  # 22:30 in Salt Lake City


def _lead(client, account, worker, **fields):
    answer = post_lead(client, account, {**LEAD, **fields})
    assert answer.status_code == 202, answer.data
    worker()
    return answer.get_json()["lead_id"]


def _post(client, path, **form):
    token = csrf_token(client)  # from the sign-in form: a dashboard page would eat the flash
    return client.post(path, data={"csrf_token": token, **form})


def test_the_feed_lists_newest_first_and_filters(
    app, client, rt, account, twilio, worker, clock, db
):
    jane = _lead(client, account, worker)
    bob = _lead(
        client, account, worker, name="Bob Stone", phone="801-555-0177", source="google_ads"
    )
    owner = signed_in_client(app.test_client(), make_user(rt, account))
    page = owner.get("/dashboard/").get_data(as_text=True)
    assert page.index("Bob Stone") < page.index("Jane Doe")
    assert "answered in" in page and page.count('class="lead-row"') == 2

    def ids(query):
        rows = owner.get(f"/dashboard/leads/rows?{query}").get_data(as_text=True)
        return [int(part.split('"')[0]) for part in rows.split('data-lead="')[1:]]

    assert ids("source=google_ads") == [bob]
    assert ids("q=jane") == [jane]
    assert ids("q=(801) 555-0177") == [bob]
    assert ids("q=nobody") == []
    assert ids("status=booked") == []
    bad = owner.get("/dashboard/?status=wrong")
    assert bad.status_code == 400 and "No status" in bad.get_data(as_text=True)


def test_the_feed_says_when_a_held_reply_goes(app, client, rt, account, twilio, worker, db):
    with time_machine.travel(NIGHT, tick=False):
        _lead(client, account, worker)
        owner = signed_in_client(app.test_client(), make_user(rt, account))
        rows = owner.get("/dashboard/leads/rows").get_data(as_text=True)
    assert "held for quiet hours until 8:00" in rows
    assert twilio.sent == []


def test_the_badge_counts_leads_waiting_for_a_person(
    app, client, rt, account, twilio, worker, clock, db
):
    lead_id = _lead(client, account, worker)
    owner = signed_in_client(app.test_client(), make_user(rt, account))
    assert 'class="badge"' not in owner.get("/dashboard/").get_data(as_text=True)
    db.get(Lead, lead_id).handoff_at = datetime.now(UTC)
    db.commit()
    page = owner.get("/dashboard/").get_data(as_text=True)
    assert 'title="leads waiting for a person">1<' in page and "waits for a person" in page
    _post(
        owner,
        f"/dashboard/leads/{lead_id}/reply",
        body="Mike here, I can come at 3.",
        request_key="k1",
    )
    assert 'class="badge"' not in owner.get("/dashboard/").get_data(as_text=True)


def test_a_reply_from_the_page_goes_once_and_takes_over(
    app, client, rt, account, twilio, worker, clock, db
):
    lead_id = _lead(client, account, worker)
    text_in(client, account, "Can you come Tuesday?")
    worker()
    owner = signed_in_client(app.test_client(), make_user(rt, account))
    for _ in range(2):  # a double-clicked Send carries the same request key
        sent = _post(
            owner,
            f"/dashboard/leads/{lead_id}/reply",
            body="Tuesday 9am works.",
            request_key="same",
        )
        assert sent.status_code == 302
    page = owner.get(f"/dashboard/leads/{lead_id}").get_data(as_text=True)
    assert [m["Body"] for m in twilio.sent if m["To"] == JANE].count("Tuesday 9am works.") == 1
    assert "Reply sent." in page
    assert "From the lead" in page and "Can you come Tuesday?" in page
    assert "By person" in page and "By template" in page
    assert "a person has this conversation" in page
    db.expire_all()
    assert db.get(Lead, lead_id).owner == "human"


def test_a_reply_to_someone_who_said_stop_is_blocked_in_words(
    app, client, rt, account, twilio, worker, clock, db
):
    lead_id = _lead(client, account, worker)
    text_in(client, account, "STOP")
    worker()
    owner = signed_in_client(app.test_client(), make_user(rt, account))
    _post(owner, f"/dashboard/leads/{lead_id}/reply", body="Are you sure?", request_key="k")
    page = owner.get(f"/dashboard/leads/{lead_id}").get_data(as_text=True)
    assert "Not sent: blocked: they texted STOP." in page
    assert "Opted out: they texted STOP" in page
    assert "Are you sure?" not in [m["Body"] for m in twilio.sent]


def test_a_reply_at_night_is_held_and_says_until_when(app, client, rt, account, twilio, worker, db):
    with time_machine.travel(NIGHT, tick=False):
        lead_id = _lead(client, account, worker)
        owner = signed_in_client(app.test_client(), make_user(rt, account))
        _post(
            owner,
            f"/dashboard/leads/{lead_id}/reply",
            body="First thing tomorrow?",
            request_key="k",
        )
        page = owner.get(f"/dashboard/leads/{lead_id}").get_data(as_text=True)
        worker()  # the first reply, held for the morning too, stands down for the person's
        feed = owner.get("/dashboard/").get_data(as_text=True)
    assert "Reply held for quiet hours: goes at 8:00 in America/Denver (15:00 UTC)." in page
    assert twilio.sent == []
    # The lead's first answer is the person's, waiting for 8:00: never "not texted".
    assert "held for quiet hours until 8:00" in feed and "not texted" not in feed


def test_with_ai_replies_off_there_is_nothing_to_take_over(app, client, rt, twilio, worker, db):
    for mode, shown in (("off", False), ("auto", True)):
        account = make_account(rt, ai_mode=mode, twilio_number=f"+1801555{len(mode):04d}")
        lead_id = _lead(client, account, worker)
        owner = signed_in_client(
            app.test_client(), make_user(rt, account, email=f"{mode}@x.example")
        )
        page = owner.get(f"/dashboard/leads/{lead_id}").get_data(as_text=True)
        assert ('id="take-over"' in page) is shown
        assert ("AI replies are off for this account" in page) is not shown


def test_take_over_hand_back_and_outcomes(app, client, rt, account, twilio, worker, clock, db):
    lead_id = _lead(client, account, worker)
    owner = signed_in_client(app.test_client(), make_user(rt, account, role="member"))
    base = f"/dashboard/leads/{lead_id}"
    _post(owner, f"{base}/take-over")
    db.expire_all()
    assert db.get(Lead, lead_id).owner == "human"
    _post(owner, f"{base}/hand-back")
    db.expire_all()
    assert db.get(Lead, lead_id).owner == "ai"

    _post(owner, f"{base}/mark", status="booked", job_value="")
    assert "Not done: the job value must be" in owner.get(base).get_data(as_text=True)
    _post(owner, f"{base}/mark", status="booked", job_value="$1,250.50")
    db.expire_all()
    lead = db.get(Lead, lead_id)
    assert (lead.status, lead.job_value_cents, lead.booked_at is not None) == (
        "booked",
        125050,
        True,
    )
    assert "job value $1,250.50" in owner.get(base).get_data(as_text=True)
    _post(owner, f"{base}/mark", status="completed", job_value="1250.50")
    db.expire_all()
    assert db.get(Lead, lead_id).completed_at is not None
    _post(owner, f"{base}/mark", status="sold")
    assert "Not done: a lead can be marked" in owner.get(base).get_data(as_text=True)


def test_assist_drafts_can_be_dropped(app, client, rt, account, twilio, worker, clock, db):
    lead_id = _lead(client, account, worker)
    draft = add_draft(db, account, lead_id, "Tuesday works, what time?", JANE)
    owner = signed_in_client(app.test_client(), make_user(rt, account))
    page = owner.get(f"/dashboard/leads/{lead_id}").get_data(as_text=True)
    assert "Send draft" in page and "Tuesday works, what time?" in page
    _post(owner, f"/dashboard/leads/{lead_id}/drafts/{draft.id}/drop")
    db.expire_all()
    assert db.get(Message, draft.id).status == "cancelled"
    assert "Tuesday works, what time?" not in [m["Body"] for m in twilio.sent]


def test_the_consent_evidence_is_shown(app, client, rt, account, twilio, worker, clock, db):
    lead_id = _lead(client, account, worker)
    owner = signed_in_client(app.test_client(), make_user(rt, account))
    page = owner.get(f"/dashboard/leads/{lead_id}").get_data(as_text=True)
    # On the account's clock (Denver), its zone named.
    assert re.search(r"To be texted about this request: \w{3} \d+, 2026 \d+:\d\d M[SD]T", page)
    assert account.consent_text[:30] in page


def test_another_accounts_lead_is_not_found(app, client, rt, account, twilio, worker, clock, db):
    lead_id = _lead(client, account, worker)
    other = make_account(rt, name="Other Co", twilio_number="+18015550222")
    stranger = signed_in_client(app.test_client(), make_user(rt, other, email="x@other.example"))
    assert stranger.get(f"/dashboard/leads/{lead_id}").status_code == 404
    assert _post(stranger, f"/dashboard/leads/{lead_id}/mark", status="lost").status_code == 404
    assert "Jane" not in stranger.get("/dashboard/").get_data(as_text=True)
    assert db.scalar(select(Lead.status).where(Lead.id == lead_id)) != "lost"
