"""Reactivation: old customers who agreed to marketing invited back, paced to the number's
throughput and daily cap and to each person's quiet hours; a holdout never texted; pause,
resume, cancel and the automatic pause; the lift over the holdout."""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import responses
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from loopstrat.campaigns import pacer, reactivation
from loopstrat.campaigns.figures import figures
from loopstrat.campaigns.imports import import_customers
from loopstrat.clock import utcnow
from loopstrat.models import Account, Campaign, Contact, Enrollment, Lead, Message
from tests.conftest import DAYTIME, _empty_tables, make_account
from tests.twilio_api import FakeTwilio
from tests.twilio_inbound import text_in
from workers.scheduler import LOST_AFTER, dispatch_due, hand_back_lost

HEADER = (
    "name,phone,zip,last_service_date,last_job_value,marketing_consent,consent_source,"
    "consent_date\n"
)


@pytest.fixture
def clock():
    """Time stands still unless a test moves it: the pacer's next second comes when we say,
    however long a drain of the queues takes on a slow machine."""
    with time_machine.travel(DAYTIME, tick=False) as traveller:
        yield traveller


FIRST_NAMES = ("Ann", "Bo", "Cy", "Di", "Ed", "Flo", "Gus", "Hal", "Ida", "Jo")


def customer_name(i: int) -> str:
    """A first name of letters only, as people's are (a text carries only such a name)."""
    return FIRST_NAMES[i % 10] + "x" * (i // 10)


def import_old_customers(rt, account, n: int, *, start: int = 0, consent: str = "yes") -> None:
    rows = "".join(
        f"{customer_name(i)} Person,801-555-{3000 + i},84101,2023-05-01,300,{consent},invoice,"
        "2023-05-01\n"
        for i in range(start, start + n)
    )
    with rt.sessions() as session:
        report = import_customers(session, account.id, io.StringIO(HEADER + rows), utcnow())
        session.commit()
    assert not report.rejected, report.rejected


def make_campaign(rt, account, *, holdout: int = 10, **changes) -> int:
    with rt.sessions() as session:
        acct = session.get_one(Account, account.id)
        for name, value in changes.items():
            setattr(acct, name, value)
        made = reactivation.create_campaign(
            session, None, acct, name="Fall tune-up", brief="20% off a furnace tune-up this month",
            audience=reactivation.Audience(12, 30), holdout_pct=holdout,
        )  # fmt: skip
        session.commit()
        return made.id


def launch(rt, campaign_id: int) -> tuple[int, int]:
    with rt.sessions() as session:
        found = session.get_one(Campaign, campaign_id)
        planned = reactivation.launch(session, found, utcnow())
        session.commit()
        return planned


def campaign_texts(db) -> list[Message]:
    db.expire_all()
    return db.scalars(
        select(Message).where(Message.kind == "reactivation").order_by(Message.id)
    ).all()


def test_the_drafted_offer_names_the_business_says_stop_and_is_personalised(
    rt, account, twilio, worker, clock, db
):
    import_old_customers(rt, account, 3)
    campaign_id = make_campaign(rt, account, holdout=0, sends_per_second=100.0)
    assert launch(rt, campaign_id) == (3, 0)
    worker()
    bodies = [m.body for m in campaign_texts(db)]
    assert bodies[0] == (
        "Hi Ann, it's Acme Plumbing. It's been a while since your last service (May 2023). "
        "20% off a furnace tune-up this month. Reply to book. Reply STOP to opt out."
    )
    assert all(m.sent_at is not None for m in campaign_texts(db)) and len(twilio.created) == 3


def test_a_template_without_the_business_or_stop_or_with_unknown_fields_is_refused(rt, account):
    with rt.sessions() as session:
        acct = session.get_one(Account, account.id)
        made = reactivation.create_campaign(
            session, None, acct, name="x", brief="a deal", audience=reactivation.Audience(12, 30)
        )
        with pytest.raises(reactivation.CampaignRefused) as refused:
            reactivation.edit_template(session, made, "Hi {first_name}, come back {price}!")
        assert str(refused.value) == (
            "unknown placeholders: price; it must name the business (Acme Plumbing or "
            "{business}); it must say how to opt out (Reply STOP to opt out)"
        )


def test_only_old_customers_with_marketing_consent_and_not_texted_lately_are_in_the_audience(
    rt, client, account, twilio, worker, clock, db
):
    import_old_customers(rt, account, 4)
    with rt.sessions() as session:  # served last month: not "a long while"
        session.execute(
            update(Contact)
            .where(Contact.phone == "+18015553001")
            .values(last_service_on=(utcnow() - timedelta(days=30)).date())
        )
        session.execute(
            update(Contact).where(Contact.phone == "+18015553002").values(marketing_consent_at=None)
        )
        session.commit()
    text_in(client, account, "STOP", From="+18015553003")
    worker()
    campaign_id = make_campaign(rt, account, holdout=0)
    assert launch(rt, campaign_id) == (1, 0)


def test_sends_are_paced_to_the_numbers_throughput_and_its_daily_cap(
    rt, account, twilio, worker, clock, db
):
    import_old_customers(rt, account, 10)
    campaign_id = make_campaign(rt, account, holdout=0, sends_per_second=2.0, daily_send_cap=6)
    launch(rt, campaign_id)
    released_per_tick = []
    for _ in range(5):
        pacer.pace(rt, campaign_id)
        db.expire_all()
        released_per_tick.append(
            db.scalar(select(func.count()).where(Enrollment.released_at.is_not(None)))
        )
        clock.shift(timedelta(seconds=1))
    assert released_per_tick == [2, 4, 6, 6, 6]  # two a second, then the day's cap
    row = db.scalars(select(Enrollment).where(Enrollment.released_at.is_(None))).first()
    assert row is not None
    from loopstrat.models import Outbox

    tick = db.scalars(select(Outbox).where(Outbox.kind == "campaign_tick")).one()
    local = tick.due_at.astimezone(ZoneInfo("America/Denver"))
    assert (local.hour, local.minute) == (0, 0)  # tomorrow's cap, from local midnight


def test_nobody_is_texted_in_their_quiet_hours_and_the_morning_picks_up(
    rt, account, twilio, worker, clock, db
):
    import_old_customers(rt, account, 4)
    campaign_id = make_campaign(rt, account, holdout=0, sends_per_second=100.0)
    # Tuesday 21:00 in Salt Lake City (not Thanksgiving's eve: Utah has no offers on holidays).
    clock.move_to(datetime(2026, 12, 2, 4, 0, tzinfo=UTC))
    launch(rt, campaign_id)
    worker()
    assert campaign_texts(db) == []
    clock.move_to(datetime(2026, 12, 2, 14, 59, tzinfo=UTC))
    worker()
    assert campaign_texts(db) == []
    clock.move_to(datetime(2026, 12, 2, 15, 0, 30, tzinfo=UTC))  # 8:00 there
    worker()
    sent = campaign_texts(db)
    assert len(sent) == 4
    for msg in sent:
        local = msg.sent_at.astimezone(ZoneInfo("America/Denver"))
        assert 8 <= local.hour < 21


def test_pause_stops_further_sends_resume_goes_on_and_cancel_ends_it(
    rt, account, twilio, worker, clock, db
):
    import_old_customers(rt, account, 6)
    campaign_id = make_campaign(rt, account, holdout=0, sends_per_second=1.0)
    launch(rt, campaign_id)
    worker()
    assert len(campaign_texts(db)) == 1
    with rt.sessions() as session:
        reactivation.pause(session, session.get_one(Campaign, campaign_id), "paused by you")
        session.commit()
    for _ in range(3):
        clock.shift(timedelta(seconds=2))
        worker()
    assert len(campaign_texts(db)) == 1
    with rt.sessions() as session:
        reactivation.resume(session, session.get_one(Campaign, campaign_id))
        session.commit()
    worker()
    clock.shift(timedelta(seconds=1.1))
    worker()
    assert len(campaign_texts(db)) == 3
    with rt.sessions() as session:
        assert reactivation.cancel(session, session.get_one(Campaign, campaign_id)) == 3
        session.commit()
    for _ in range(3):
        clock.shift(timedelta(seconds=2))
        worker()
    assert len(campaign_texts(db)) == 3
    states = db.scalars(select(Enrollment.state).order_by(Enrollment.id)).all()
    assert states == ["handed"] * 3 + ["cancelled"] * 3


@pytest.mark.parametrize(
    ("cause", "said"),
    [
        ("opt_outs", "opt-outs 3.3% of the last 60 texts (limit 2%)"),
        ("carrier_filtering", "carriers filtered 6.7% of the last 60 texts (limit 5%)"),
    ],
)
def test_the_campaign_pauses_itself_and_alerts_the_contractor_past_the_limits(
    rt, account, twilio, worker, clock, db, cause, said
):
    import_old_customers(rt, account, 80)
    campaign_id = make_campaign(rt, account, holdout=0, sends_per_second=60.0)
    launch(rt, campaign_id)
    worker()  # the first second's 60
    assert len(campaign_texts(db)) == 60
    ids = [m.id for m in campaign_texts(db)]
    with rt.sessions() as session:
        if cause == "opt_outs":  # 2 of 60
            texted = select(Message.contact_id).where(Message.id.in_(ids[:2]))
            session.execute(
                update(Contact).where(Contact.id.in_(texted)).values(opted_out_at=utcnow())
            )
        else:  # Twilio 30007 on 4 of 60
            session.execute(update(Message).where(Message.id.in_(ids[:4])).values(error_code=30007))
        session.commit()
    clock.shift(timedelta(seconds=1.5))
    worker()

    assert len(campaign_texts(db)) == 60  # nothing more went
    paused = db.get(Campaign, campaign_id)
    assert (paused.state, paused.paused_reason) == ("paused", said)
    alert = [m["body"] for m in twilio.created if m["to"] == "+18015550199"]
    assert alert == [
        f'Loopstrat paused your campaign "Fall tune-up": {said}. Carriers suspend numbers that '
        "go on. Resume it from the dashboard when you are ready."
    ]
    with rt.sessions() as session:  # the contractor looked, and resumes: the rest go
        reactivation.resume(session, session.get_one(Campaign, campaign_id))
        session.commit()
    worker()
    assert len(campaign_texts(db)) == 80
    assert db.get(Campaign, campaign_id).state == "running"


def test_a_reply_to_an_offer_is_a_lead_of_the_campaign_and_stop_cancels_the_rest(
    rt, client, account, twilio, worker, clock, db
):
    import_old_customers(rt, account, 3)
    campaign_id = make_campaign(rt, account, holdout=0, sends_per_second=1.0)
    launch(rt, campaign_id)
    worker()
    (first,) = campaign_texts(db)
    phone = db.get(Contact, first.contact_id).phone
    text_in(client, account, "Yes please, next week?", From=phone)
    worker()
    lead = db.scalars(select(Lead).where(Lead.contact_id == first.contact_id)).one()
    assert lead.source == f"campaign:{campaign_id}"
    second = db.scalars(
        select(Contact).where(Contact.id != first.contact_id).order_by(Contact.id)
    ).first()
    text_in(client, account, "STOP", From=second.phone)
    worker()
    plan = db.scalars(select(Enrollment).where(Enrollment.contact_id == second.id)).one()
    assert (plan.state, plan.reason) == ("cancelled", "opted_out")
    for _ in range(4):
        clock.shift(timedelta(seconds=1.1))
        worker()
    assert second.id not in {m.contact_id for m in campaign_texts(db)}
    assert len(campaign_texts(db)) == 2


def test_the_holdout_is_never_texted_and_the_lift_compares_it(
    rt, account, twilio, worker, clock, db
):
    import_old_customers(rt, account, 80)
    campaign_id = make_campaign(rt, account, holdout=50, sends_per_second=1000.0)
    planned, held = launch(rt, campaign_id)
    assert planned + held == 80 and held > 20
    worker()
    held_ids = set(db.scalars(select(Enrollment.contact_id).where(Enrollment.state == "held_back")))
    texted_ids = {m.contact_id for m in campaign_texts(db)}
    assert not held_ids & texted_ids and len(texted_ids) == planned
    clock.shift(timedelta(days=2))
    with rt.sessions() as session:  # three texted customers booked a job since
        for contact_id in sorted(texted_ids)[:3]:
            session.add(
                Lead(account_id=account.id, contact_id=contact_id, inquiry="furnace",
                     source="campaign", received_at=utcnow(), booked_at=utcnow(),
                     job_value_cents=20_000, status="booked")
            )  # fmt: skip
        session.commit()
        shown = figures(session, account.id, session.get_one(Campaign, campaign_id))
    assert shown.lift is not None
    assert shown.lift.texted_per_contact == pytest.approx(600 / planned)
    assert shown.lift.held_back_per_contact == 0
    assert shown.lift.low is not None and shown.lift.verdict in (
        "the texts brought more booked revenue than holding back",
        "no clear difference yet",
    )


def test_a_small_campaign_says_it_is_too_small_to_tell(rt, account, twilio, worker, clock, db):
    import_old_customers(rt, account, 10)
    campaign_id = make_campaign(rt, account, holdout=10, sends_per_second=1000.0)
    launch(rt, campaign_id)
    with rt.sessions() as session:
        shown = figures(session, account.id, session.get_one(Campaign, campaign_id))
    assert shown.lift is not None and shown.lift.verdict.startswith("too few contacts to tell")


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.text(alphabet="0123456789abcdef", min_size=8, max_size=32),
    size=st.integers(min_value=1, max_value=40),
    pct=st.integers(min_value=0, max_value=50),
)
def test_property_the_holdout_is_never_texted_and_everyone_else_once(rt, worker, seed, size, pct):
    _empty_tables(rt)
    rt.redis.flushdb()
    with (
        time_machine.travel(DAYTIME, tick=False),
        responses.RequestsMock(assert_all_requests_are_fired=False) as mock,
    ):
        twilio = FakeTwilio(mock)
        twilio.install()
        account = make_account(rt)
        import_old_customers(rt, account, size)
        campaign_id = make_campaign(rt, account, holdout=pct, sends_per_second=1000.0)
        with rt.sessions() as session:
            session.execute(update(Campaign).values(holdout_seed=seed))
            session.commit()
        launch(rt, campaign_id)
        worker()
        with rt.sessions() as session:
            held = set(
                session.scalars(
                    select(Enrollment.contact_id).where(Enrollment.state == "held_back")
                )
            )
            texted = [m.contact_id for m in campaign_texts(session)]
        assert not held & set(texted)
        assert len(texted) == len(set(texted)) == size - len(held)
        assert len(twilio.created) == len(texted)


def test_the_whole_campaign_from_the_command_line(
    rt, account, cli, twilio, worker, clock, tmp_path
):
    source = tmp_path / "old.csv"
    rows = [
        f"{customer_name(i)} Person,801-555-{3000 + i},84101,2023-05-01,300,yes,invoice,"
        "2023-05-01\n"
        for i in range(40)
    ]
    source.write_text(HEADER + "".join(rows))
    acct = str(account.id)
    assert cli("campaign", "import", "--account", acct, str(source)).exit_code == 0
    made = cli("campaign", "create", "--account", acct, "--name", "Spring", "--brief",
               "A free filter with any tune-up", "--holdout", "25")  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "drafted: Hi {first_name}, it's {business}." in made.output
    campaign_id = made.output.split()[1]
    bad = cli("campaign", "edit", "--account", acct, "--campaign", campaign_id, "--text", "Hi!")
    assert bad.exit_code == 1 and "it must name the business" in bad.output
    edited = cli("campaign", "edit", "--account", acct, "--campaign", campaign_id, "--text",
                 "Hi {first_name}, {business} here: a free filter with any tune-up in March. "
                 "Reply STOP to opt out.")  # fmt: skip
    assert edited.exit_code == 0 and "edited" in edited.output
    launched = cli("campaign", "launch", "--account", acct, "--campaign", campaign_id)
    assert launched.exit_code == 0, launched.output
    assert "launched: " in launched.output and "contacts held back" in launched.output
    again = cli("campaign", "launch", "--account", acct, "--campaign", campaign_id)
    assert again.exit_code == 1 and "only a draft can be launched" in again.output
    worker()
    assert "paused" in cli("campaign", "pause", "--account", acct, "--campaign", campaign_id).output
    shown = cli("campaign", "show", "--account", acct)
    assert "Spring (reactivation, paused)" in shown.output
    assert "text: Hi {first_name}, {business} here" in shown.output
    assert "too few contacts to tell" in shown.output
    stranger = cli("campaign", "pause", "--account", "999", "--campaign", campaign_id)
    assert stranger.exit_code == 1 and f"has no campaign {campaign_id}" in stranger.output
    cancelled = cli("campaign", "cancel", "--account", acct, "--campaign", campaign_id)
    assert cancelled.exit_code == 0 and "planned texts will not go" in cancelled.output


def test_a_plan_released_just_before_a_pause_goes_after_the_resume(
    rt, account, twilio, worker, clock, db
):
    import_old_customers(rt, account, 2)
    campaign_id = make_campaign(rt, account, holdout=0, sends_per_second=1.0)
    launch(rt, campaign_id)
    assert pacer.pace(rt, campaign_id) == "released"  # its job not run yet ...
    with rt.sessions() as session:  # ... when the contractor pauses
        reactivation.pause(session, session.get_one(Campaign, campaign_id), "paused by you")
        session.commit()
    worker()
    assert campaign_texts(db) == []
    with rt.sessions() as session:
        reactivation.resume(session, session.get_one(Campaign, campaign_id))
        session.commit()
    for _ in range(3):
        worker()
        clock.shift(timedelta(seconds=1.1))
    assert len(campaign_texts(db)) == 2


def test_flushing_redis_and_racing_dispatchers_mid_campaign_lose_and_double_nothing(
    rt, account, twilio, worker, clock, db
):
    import_old_customers(rt, account, 30)
    campaign_id = make_campaign(rt, account, holdout=0, sends_per_second=10.0)
    launch(rt, campaign_id)
    worker()  # the first second's ten
    clock.shift(timedelta(seconds=1))
    assert dispatch_due(rt) >= 1  # the next tick is queued ...
    rt.redis.flushdb()  # ... and Redis restarts empty
    clock.shift(LOST_AFTER + timedelta(seconds=1))
    assert hand_back_lost(rt) >= 1
    barrier = threading.Barrier(2)

    def dispatch() -> None:
        barrier.wait()
        dispatch_due(rt)

    for _ in range(6):
        racing = [threading.Thread(target=dispatch) for _ in range(2)]
        for thread in racing:
            thread.start()
        for thread in racing:
            thread.join()
        worker()
        clock.shift(timedelta(seconds=1))
    texted = [m.contact_id for m in campaign_texts(db)]
    assert len(texted) == len(set(texted)) == 30
    assert len(twilio.created) == 30


def test_under_the_limits_the_campaign_goes_on(rt, account, twilio, worker, clock, db):
    import_old_customers(rt, account, 80)
    campaign_id = make_campaign(rt, account, holdout=0, sends_per_second=60.0)
    launch(rt, campaign_id)
    worker()
    ids = [m.id for m in campaign_texts(db)]
    with rt.sessions() as session:  # 1 opt-out (1.7%) and 3 filtered (5.0%) of 60: not past
        texted = select(Message.contact_id).where(Message.id.in_(ids[:1]))
        session.execute(update(Contact).where(Contact.id.in_(texted)).values(opted_out_at=utcnow()))
        session.execute(update(Message).where(Message.id.in_(ids[1:4])).values(error_code=30007))
        session.commit()
    clock.shift(timedelta(seconds=1.5))
    worker()
    assert db.get(Campaign, campaign_id).state == "running"
    assert len(campaign_texts(db)) == 80


def test_a_text_over_two_segments_or_with_a_stranger_link_is_refused(rt, account):
    curly = (
        "Hi {first_name}, it\u2019s {business}. We\u2019d love to see you again this fall. "
        "Reply STOP to opt out."
    )
    long = "Hi {first_name}, {business} here. " + "A fine offer. " * 20 + "Reply STOP to opt out."
    with rt.sessions() as session:
        acct = session.get_one(Account, account.id)
        made = reactivation.create_campaign(
            session, None, acct, name="x", brief="a deal", audience=reactivation.Audience(12, 30)
        )
        reactivation.edit_template(session, made, curly)  # 2 segments of 70 with the quote
        with pytest.raises(reactivation.CampaignRefused, match="2 text segments"):
            reactivation.edit_template(session, made, long)
        with pytest.raises(reactivation.CampaignRefused, match="links other than your own"):
            reactivation.edit_template(
                session, made, "{business}: see https://evil.example.com Reply STOP to opt out."
            )
        reactivation.edit_template(
            session, made, "{business}: see https://acmeplumbing.com Reply STOP to opt out."
        )


def test_a_launch_with_nobody_in_the_audience_is_refused(rt, account, db):
    campaign_id = make_campaign(rt, account)
    with pytest.raises(reactivation.CampaignRefused, match="nobody is in the audience"):
        launch(rt, campaign_id)
    assert db.get(Campaign, campaign_id).state == "draft"
