"""The first reply is Claude's when Claude is quick and sensible, else the template's."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from loopstrat import runtime
from loopstrat.clock import utcnow
from loopstrat.drafting.profile import BusinessProfile
from loopstrat.models import Contact, Message
from loopstrat.texts.checks import draft_problems
from tests.claude_api import MODEL
from tests.leads_helpers import post_lead

GOOD_DRAFT = (
    "Acme Plumbing here, Jane: sorry about the leaking water heater! What's the address, "
    "and is today or tomorrow better for a visit? Reply STOP to opt out."
)
PROFILE = BusinessProfile(
    name="Acme Plumbing",
    trade="plumbing",
    service_zips=("84101",),
    hours="Mon-Fri 8am-6pm",
    tone="friendly",
    never_promise="prices",
    website="acmeplumbing.com",
)


def sent_reply(db) -> Message:
    db.expire_all()
    return db.scalars(select(Message).where(Message.direction == "out")).one()


def test_claude_drafts_the_first_reply_from_the_business_profile(
    client, account, claude, twilio, worker, clock, db
):
    claude.reply(GOOD_DRAFT)
    post_lead(client, account)
    worker()

    assert [t["Body"] for t in twilio.sent] == [GOOD_DRAFT]
    reply = sent_reply(db)
    assert reply.drafted_by == "claude"
    # The Messages API's usage, as tests/claude_api.py answers it: the ROI page's AI cost.
    assert (reply.ai_input_tokens, reply.ai_output_tokens) == (212, 48)
    request = claude.requests[0]
    assert request["model"] == MODEL
    assert "Acme Plumbing" in request["system"] and "plumbing business" in request["system"]
    assert "84101" in request["system"]
    assert "My water heater is leaking" in request["messages"][0]["content"]


def test_a_draft_missing_the_business_name_and_opt_out_gets_them(
    client, account, claude, twilio, worker, clock
):
    claude.reply("Sorry about the water heater, Jane. What's the address?")
    post_lead(client, account)
    worker()
    body = twilio.sent[0]["Body"]
    assert body.startswith("Acme Plumbing: Sorry about the water heater")
    assert body.endswith("Reply STOP to opt out.")


def test_claude_overloaded_once_is_retried_within_the_budget(
    client, account, claude, twilio, worker, clock, db
):
    claude.fail(529)
    claude.reply(GOOD_DRAFT)
    post_lead(client, account)
    worker()
    assert len(claude.requests) == 2
    assert sent_reply(db).drafted_by == "claude"


@pytest.mark.parametrize("status", [500, 529, 401, 400])
def test_claude_failing_falls_back_to_the_template(
    client, account, claude, twilio, worker, clock, db, status
):
    claude.fail(status)
    post_lead(client, account)
    worker()
    assert len(twilio.sent) == 1
    assert twilio.sent[0]["Body"].startswith("Acme Plumbing: Hi Jane")
    assert sent_reply(db).drafted_by == "template"


def test_claude_too_slow_falls_back_to_the_template(
    client, account, claude, twilio, worker, clock, db
):
    # One attempt's worth of budget (MIN_ATTEMPT_S is 0.5 s): the test costs that, no more.
    runtime.configure(replace(runtime.current().settings, draft_budget_s=0.6))
    claude.stall(GOOD_DRAFT)
    post_lead(client, account)
    worker()
    assert len(claude.requests) == 1
    assert len(twilio.sent) == 1
    assert sent_reply(db).drafted_by == "template"


def test_claude_cut_off_at_max_tokens_falls_back_to_the_template(
    client, account, claude, twilio, worker, clock, db
):
    claude.reply("Acme Plumbing: thanks Jane, we", stop_reason="max_tokens")
    post_lead(client, account)
    worker()
    assert sent_reply(db).drafted_by == "template"


@pytest.mark.parametrize(
    "bad_draft",
    [
        "Acme Plumbing: Hi [Name], what's your address? Reply STOP to opt out.",
        "Acme Plumbing: a new water heater is $1,200 installed. Reply STOP to opt out.",
        "Acme Plumbing: we guarantee a plumber within 2 hours! Reply STOP to opt out.",
        "Acme Plumbing: book at https://bit.ly/acme-book now. Reply STOP to opt out.",
        "Acme Plumbing: " + "so sorry about that leak, " * 14 + "Reply STOP to opt out.",
    ],
    ids=["placeholder", "price", "promise", "foreign_link", "too_long"],
)
def test_a_bad_draft_is_never_sent(client, account, claude, twilio, worker, clock, db, bad_draft):
    claude.reply(bad_draft)
    post_lead(client, account)
    worker()
    assert len(twilio.sent) == 1
    assert twilio.sent[0]["Body"] != bad_draft
    reply = sent_reply(db)
    assert reply.drafted_by == "template"
    assert (reply.ai_input_tokens, reply.ai_output_tokens) == (212, 48)  # spent all the same


def test_the_business_own_link_is_allowed():
    body = "Acme Plumbing: see acmeplumbing.com/water-heaters or reply here. Reply STOP to opt out."
    assert draft_problems(body, PROFILE) == []
    assert draft_problems(body.replace("acmeplumbing.com", "acme-deals.com"), PROFILE) == [
        "foreign_link"
    ]


def test_without_an_api_key_the_template_drafts_and_no_model_is_called(
    client, account, twilio, worker, clock, db
):
    post_lead(client, account)
    worker()
    assert sent_reply(db).drafted_by == "template"


def test_an_opt_out_that_arrives_while_claude_drafts_stops_the_send(
    client, account, claude, rt, twilio, worker, clock, db
):
    def opt_out_meanwhile() -> None:
        with rt.sessions() as session:
            contact = session.scalars(select(Contact)).one()
            contact.opted_out_at = utcnow()
            session.commit()

    claude.reply(GOOD_DRAFT)
    claude.while_drafting = opt_out_meanwhile
    post_lead(client, account)
    worker()
    assert twilio.create_calls == 0
    row = sent_reply(db)
    assert (row.status, row.reason) == ("suppressed", "opted_out")
