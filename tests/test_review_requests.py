"""Review requests: one per job, after the account's delay and out of the customer's quiet
hours; nobody asked twice within the cooldown; one reminder only if the link was not clicked
and the customer has not replied; the tracked link counts each click."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, update

from loopstrat import runtime
from loopstrat.campaigns import handout, reviews
from loopstrat.leads.outcome import mark_lead
from loopstrat.models import Account, Contact, Enrollment, Lead, LinkClick, Message
from tests.conftest import make_account
from tests.leads_helpers import LEAD, post_lead
from tests.twilio_inbound import text_in
from workers.scheduler import LOST_AFTER, dispatch_due, hand_back_lost

REVIEW_PAGE = "https://search.google.com/local/writereview?placeid=ChIJ-acme"
# 20:30 in Salt Lake City, the customer's zone (ZIP 84101).
EVENING_2030_DENVER = datetime(2026, 11, 26, 3, 30, tzinfo=UTC)
NEXT_MORNING_8AM_DENVER = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


@pytest.fixture
def reviewing(rt, account):
    with rt.sessions() as session:
        session.get_one(Account, account.id).review_link = REVIEW_PAGE
        session.commit()
    return account


def job_done(rt, client, account, worker, data=None) -> int:
    """A lead posted and answered, then its job marked completed now."""
    lead_id = post_lead(client, account, data).get_json()["lead_id"]
    worker()
    mark_lead(rt, account_id=account.id, lead_id=lead_id, status="completed")
    return lead_id


def review_texts(twilio) -> list[str]:
    return [m["body"] for m in twilio.created if "review" in m["body"]]


def link_token(body: str) -> str:
    found = re.search(r"/r/([A-Za-z0-9_-]+)", body)
    assert found, body
    return found.group(1)


def test_a_job_done_at_2030_gets_its_request_the_next_morning_not_at_night(
    rt, client, reviewing, twilio, worker, clock, db
):
    lead_id = post_lead(client, reviewing).get_json()["lead_id"]
    worker()
    clock.move_to(EVENING_2030_DENVER)
    said = mark_lead(rt, account_id=reviewing.id, lead_id=lead_id, status="completed")
    assert said == "Review request planned for Nov 26 8:00 MST."

    clock.move_to(EVENING_2030_DENVER + timedelta(hours=2))  # the delay is up: 22:30 there
    worker()
    assert review_texts(twilio) == []
    clock.move_to(NEXT_MORNING_8AM_DENVER + timedelta(seconds=5))
    worker()

    (body,) = review_texts(twilio)
    assert body.startswith("Hi Jane, thank you for choosing Acme Plumbing.")
    assert "Reply STOP to opt out." in body
    sent = db.scalars(select(Message).where(Message.kind == "review_request")).one()
    assert sent.lead_id == lead_id and sent.sent_at >= NEXT_MORNING_8AM_DENVER


def test_one_request_per_job_however_often_it_is_marked_done(
    rt, client, reviewing, twilio, worker, clock, db
):
    lead_id = job_done(rt, client, reviewing, worker)
    mark_lead(rt, account_id=reviewing.id, lead_id=lead_id, status="completed")
    clock.shift(timedelta(hours=3))
    worker()
    assert len(review_texts(twilio)) == 1
    assert db.scalar(select(func.count()).select_from(Enrollment)) == 2  # request, reminder


def requests_sent(db) -> list[Message]:
    db.expire_all()
    return db.scalars(
        select(Message)
        .where(Message.kind == "review_request", Message.sent_at.is_not(None))
        .order_by(Message.id)
    ).all()


def test_a_contact_asked_30_days_ago_is_not_asked_again_but_after_90_days_is(
    rt, client, reviewing, twilio, worker, clock, db
):
    job_done(rt, client, reviewing, worker)
    clock.shift(timedelta(hours=3))
    worker()
    assert len(requests_sent(db)) == 1

    clock.shift(timedelta(days=30))
    second = job_done(rt, client, reviewing, worker)  # a new job for the same customer
    assert "asked for a review recently" in mark_lead(
        rt, account_id=reviewing.id, lead_id=second, status="completed"
    )
    clock.shift(timedelta(hours=3))
    worker()
    assert len(requests_sent(db)) == 1

    clock.shift(timedelta(days=61))
    third = job_done(rt, client, reviewing, worker)
    clock.shift(timedelta(hours=3))
    worker()
    assert [m.lead_id for m in requests_sent(db)][1:] == [third]


def test_the_reminder_goes_three_days_on_only_if_the_link_was_not_clicked(
    rt, client, reviewing, twilio, worker, clock, db
):
    job_done(rt, client, reviewing, worker)
    clock.shift(timedelta(hours=3))
    worker()
    clock.shift(reviews.REMINDER_AFTER)
    worker()
    bodies = review_texts(twilio)
    assert len(bodies) == 2 and "here. If you have a minute, a review would help us" in bodies[1]
    assert link_token(bodies[0]) == link_token(bodies[1])  # the job's one link

    jane2 = {**LEAD, "phone": "(801) 555-0143", "name": "Kim Lee"}
    job_done(rt, client, reviewing, worker, jane2)
    clock.shift(timedelta(hours=3))
    worker()
    assert client.get(f"/r/{link_token(review_texts(twilio)[-1])}").status_code == 302
    clock.shift(reviews.REMINDER_AFTER)
    worker()
    assert [b for b in review_texts(twilio) if b.startswith("Hi Kim")] == [review_texts(twilio)[2]]
    reminder = db.scalars(
        select(Enrollment).where(Enrollment.kind == "review_reminder").order_by(Enrollment.id)
    ).all()[-1]
    assert (reminder.state, reminder.reason) == ("skipped", "clicked")


def test_no_reminder_once_the_customer_has_replied_and_the_reply_is_a_conversation(
    rt, client, reviewing, twilio, worker, clock, db
):
    lead_id = job_done(rt, client, reviewing, worker)
    clock.shift(timedelta(hours=3))
    worker()
    text_in(client, reviewing, "Thanks, will do!")
    worker()
    clock.shift(reviews.REMINDER_AFTER)
    worker()
    assert len(review_texts(twilio)) == 1
    reply = db.scalars(select(Message).where(Message.direction == "in")).one()
    assert reply.lead_id == lead_id  # in the job's conversation
    alerts = [m["body"] for m in twilio.created if m["to"] == "+18015550199"]
    assert any(a.startswith("New reply from Jane") for a in alerts)  # the contractor hears
    reminder = db.scalars(select(Enrollment).where(Enrollment.kind == "review_reminder")).one()
    assert (reminder.state, reminder.reason) == ("skipped", "replied")


def test_the_link_redirects_and_counts_each_click_and_an_unknown_token_is_a_404(
    rt, client, reviewing, twilio, worker, clock, db
):
    job_done(rt, client, reviewing, worker)
    clock.shift(timedelta(hours=3))
    worker()
    token = link_token(review_texts(twilio)[0])

    first = client.get(f"/r/{token}")
    assert (first.status_code, first.headers["Location"]) == (302, REVIEW_PAGE)
    assert db.scalar(select(func.count()).select_from(LinkClick)) == 1
    client.get(f"/r/{token}")
    assert db.scalar(select(func.count()).select_from(LinkClick)) == 2

    assert client.get(f"/r/{token[:-2]}xx").status_code == 404
    assert client.get("/r/not-a-token").status_code == 404
    assert db.scalar(select(func.count()).select_from(LinkClick)) == 2


def test_without_a_review_link_nothing_is_planned_and_the_person_is_told_why(
    rt, client, account, worker, db
):
    lead_id = post_lead(client, account).get_json()["lead_id"]
    said = mark_lead(rt, account_id=account.id, lead_id=lead_id, status="completed")
    assert said == (
        "No review request: no review link is set (Settings, or `loopstrat review-settings`)."
    )
    assert db.scalar(select(func.count()).select_from(Enrollment)) == 0
    assert db.get(Lead, lead_id).status == "completed"


def test_marking_a_job_done_again_says_its_request_went_and_a_demo_lead_gets_none(
    rt, client, reviewing, twilio, worker, clock, db
):
    lead_id = job_done(rt, client, reviewing, worker)
    clock.shift(timedelta(hours=3))
    worker()
    again = mark_lead(rt, account_id=reviewing.id, lead_id=lead_id, status="completed")
    assert again.startswith("Its review request went on Nov 25 1")  # 13:00 or just after
    with rt.sessions() as session:
        session.execute(update(Lead).where(Lead.id == lead_id).values(source="demo"))
        session.execute(delete(Enrollment))
        session.commit()
    said = mark_lead(rt, account_id=reviewing.id, lead_id=lead_id, status="completed")
    assert said == "No review request: a demo lead reaches no one."


def test_review_requests_cannot_be_paused_or_cancelled_only_turned_off(
    rt, client, reviewing, twilio, worker, clock, db
):
    from loopstrat.campaigns import reactivation
    from loopstrat.models import Campaign

    job_done(rt, client, reviewing, worker)
    with rt.sessions() as session:
        standing = session.scalars(select(Campaign)).one()
        for act in (reactivation.cancel, lambda s, c: reactivation.pause(s, c, "x")):
            with pytest.raises(reactivation.CampaignRefused, match="clear the review link"):
                act(session, standing)


def test_a_stop_after_the_request_is_an_opt_out_not_a_reply(
    rt, client, reviewing, twilio, worker, clock, db
):
    from loopstrat.campaigns.figures import campaigns_of, figures

    job_done(rt, client, reviewing, worker)
    clock.shift(timedelta(hours=3))
    worker()
    text_in(client, reviewing, "STOP")
    worker()
    with rt.sessions() as session:
        (standing,) = campaigns_of(session, reviewing.id)
        shown = figures(session, reviewing.id, standing)
    assert (shown.replied, shown.opted_out) == (0, 1)


def test_consent_to_a_text_that_did_not_cover_follow_ups_suppresses_the_request(
    rt, client, twilio, worker, clock, db
):
    older = make_account(
        rt,
        consent_covers_follow_ups=False,
        consent_text="You agree to receive texts about your request.",
        review_link=REVIEW_PAGE,
    )
    job_done(rt, client, older, worker)
    clock.shift(timedelta(hours=3))
    worker()
    assert review_texts(twilio) == []
    request = db.scalars(select(Message).where(Message.kind == "review_request")).one()
    assert (request.status, request.reason) == ("suppressed", "no_follow_up_consent")
    contact = db.scalars(select(Contact)).one()
    assert contact.consent_at is not None and contact.follow_up_consent_at is None


def test_stop_cancels_the_planned_request_and_reminder_at_once(
    rt, client, reviewing, twilio, worker, clock, db
):
    job_done(rt, client, reviewing, worker)
    text_in(client, reviewing, "STOP")
    worker()
    clock.shift(reviews.REMINDER_AFTER + timedelta(hours=3))
    worker()
    assert review_texts(twilio) == []
    states = db.scalars(select(Enrollment.state)).all()
    assert states == ["cancelled", "cancelled"]


def test_every_review_text_is_the_same_for_everyone(rt, client, reviewing, twilio, worker, clock):
    for n, name in enumerate(["Ann Smith", "Bob Jones", ""]):
        lead = {**LEAD, "phone": f"(801) 555-01{50 + n}", "name": name}
        job_done(rt, client, reviewing, worker, lead)
    clock.shift(timedelta(hours=3))
    worker()
    bodies = review_texts(twilio)
    greeting = re.compile(r"^Hi [A-Za-z]+, ")
    masked = {greeting.sub("Hi _, ", re.sub(r"/r/[\w-]+", "/r/_", b)) for b in bodies}
    assert len(bodies) == 3 and len(masked) == 1
    assert bodies[2].startswith("Hi there, ")


def test_the_review_settings_are_checked_and_saved_from_the_command_line(account, cli):
    bad = cli("review-settings", "--account", str(account.id), "--link", "ftp://x")
    assert bad.exit_code == 1 and "review_link" in bad.output
    good = cli(
        "review-settings", "--account", str(account.id), "--link", REVIEW_PAGE,
        "--delay-minutes", "90",
    )  # fmt: skip
    assert good.exit_code == 0, good.output
    assert f"review link: {REVIEW_PAGE}" in good.output and "90 minutes" in good.output
    with runtime.current().sessions() as session:
        saved = session.get_one(Account, account.id)
        assert (saved.review_link, saved.review_delay_minutes) == (REVIEW_PAGE, 90)


def test_job_done_and_campaign_show_from_the_command_line(
    rt, client, reviewing, twilio, worker, clock, cli
):
    lead_id = post_lead(client, reviewing).get_json()["lead_id"]
    worker()
    done = cli("job-done", "--account", str(reviewing.id), "--lead", str(lead_id), "--value", "450")
    assert done.exit_code == 0, done.output
    assert "Review request planned for Nov 25 13:00 MST" in done.output
    clock.shift(timedelta(hours=3))
    worker()
    client.get(f"/r/{link_token(review_texts(twilio)[0])}")
    shown = cli("campaign", "show", "--account", str(reviewing.id))
    assert shown.exit_code == 0, shown.output
    assert "Review requests (review_request, running)" in shown.output
    assert "planned 1, texted 1" in shown.output  # the reminder still planned
    assert "clicked 1, replied 0, opted out 0" in shown.output
    other = cli("job-done", "--account", "999", "--lead", str(lead_id))
    assert other.exit_code == 1 and "account 999 has no lead" in other.output


def plan_jobs(rt, client, account, worker, n: int) -> None:
    for i in range(n):
        job_done(rt, client, account, worker, {**LEAD, "phone": f"(801) 555-02{i:02d}"})


def test_two_dispatchers_and_two_workers_at_once_send_each_planned_text_once(
    rt, client, reviewing, twilio, worker, clock, db
):
    plan_jobs(rt, client, reviewing, worker, 6)
    clock.shift(timedelta(hours=3))
    barrier = threading.Barrier(2)

    def dispatch() -> None:
        barrier.wait()
        dispatch_due(rt)

    racing = [threading.Thread(target=dispatch) for _ in range(2)]
    for thread in racing:
        thread.start()
    for thread in racing:
        thread.join()
    plans = db.scalars(select(Enrollment.id).where(Enrollment.kind == "review_request")).all()
    for plan_id in plans:  # and a second worker runs each plan's job again
        handout.hand_out(rt, plan_id)
    worker()
    bodies = review_texts(twilio)
    assert len(bodies) == 6 and len({link_token(b) for b in bodies}) == 6


def test_flushing_redis_mid_campaign_loses_no_planned_text(
    rt, client, reviewing, twilio, worker, clock, db
):
    plan_jobs(rt, client, reviewing, worker, 5)
    clock.shift(timedelta(hours=3))
    assert dispatch_due(rt) == 5  # the plans come due are queued ...
    rt.redis.flushdb()  # ... and Redis restarts empty
    clock.shift(LOST_AFTER + timedelta(seconds=1))
    assert hand_back_lost(rt) == 5
    worker()
    assert len(review_texts(twilio)) == 5
    handed = db.scalars(select(Enrollment.state).where(Enrollment.kind == "review_request"))
    assert set(handed) == {"handed"}


def test_a_field_service_tool_marks_a_job_done_with_the_accounts_api_key(
    rt, app, client, reviewing, twilio, worker, clock, db, cli
):
    made = cli("api-key", "--account", str(reviewing.id))
    assert made.exit_code == 0, made.output
    key = made.output.strip().splitlines()[-1]
    assert key.startswith("ls_") and db.get(Account, reviewing.id).api_key_hash != key
    lead_id = post_lead(client, reviewing).get_json()["lead_id"]
    worker()
    api = app.test_client()

    def done(body, key=key):
        return api.post("/api/jobs/done", json=body, headers={"Authorization": f"Bearer {key}"})

    assert done({"lead_id": lead_id}, key="ls_wrong").status_code == 401
    assert api.post("/api/jobs/done", json={"lead_id": lead_id}).status_code == 401
    assert done({"lead": 1}).get_json()["errors"]["lead"] == "give lead_id (a number) or phone"
    assert done({"phone": "801-555-9999"}).status_code == 404
    bad_value = done({"lead_id": lead_id, "job_value": "a lot"})
    assert bad_value.status_code == 400 and "job_value" in bad_value.get_json()["errors"]
    assert "phone" in done({"phone": "12"}).get_json()["errors"]

    answer = done({"phone": "(801) 555-0142", "job_value": 450})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {
        "lead_id": lead_id,
        "status": "completed",
        "review_request": "Review request planned for Nov 25 13:00 MST.",
    }
    db.expire_all()
    assert db.get(Lead, lead_id).job_value_cents == 45000

    other = make_account(rt, name="Other Co", twilio_number="+18015550222")
    theirs = cli("api-key", "--account", str(other.id)).output.strip().splitlines()[-1]
    assert done({"lead_id": lead_id}, key=theirs).status_code == 404  # not their lead
    assert cli("api-key", "--account", str(reviewing.id)).exit_code == 0
    assert done({"lead_id": lead_id}).status_code == 401  # replaced: the old key stops
