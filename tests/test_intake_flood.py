"""The intake under attack: a flood is stored and held, a real lead during it is answered, and
the held leads go out when the flood passes (or wait for a person when they are too old)."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import func, select

from loopstrat.leads.flood import FLOOD_HOLD, FLOOD_QUIET, RELEASE_MAX_AGE, UNREVIEWED
from loopstrat.models import Contact, Lead, Message
from tests.leads_helpers import LEAD, post_lead

FLOODER = {"REMOTE_ADDR": "198.51.100.66"}
PERSON = {"REMOTE_ADDR": "203.0.113.5"}
REAL_LEAD = {**LEAD, "name": "Real Person", "phone": "801-555-0142"}


def flood(client, account, count: int, start: int = 0) -> list[int]:
    """`count` junk leads from one address, each with its own phone; their lead ids."""
    ids = []
    for i in range(start, start + count):
        body = {**LEAD, "name": f"Junk {i}", "phone": f"801201{i:04d}"}
        response = post_lead(client, account, body, environ_base=FLOODER)
        assert response.status_code == 202
        ids.append(response.get_json()["lead_id"])
    return ids


def texted(twilio) -> set[str]:
    return {m["To"] for m in twilio.sent}


def phones_of(db, lead_ids: list[int]) -> set[str]:
    rows = db.scalars(select(Contact.phone).join(Lead).where(Lead.id.in_(lead_ids)))
    return set(rows)


def test_a_real_lead_posted_during_a_flood_is_stored_and_answered(
    client, account, reconfigure, db, twilio, worker, clock
):
    reconfigure(intake_rate_per_ip_per_min=30, intake_rate_per_key_per_min=120)
    first = flood(client, account, 100)
    real = post_lead(client, account, REAL_LEAD, environ_base=PERSON)
    rest = flood(client, account, 100, start=100)
    assert real.status_code == 202

    worker()

    assert "+18015550142" in texted(twilio)
    held = first[30:] + rest  # past the address's 30 a minute, every post is held
    assert phones_of(db, held).isdisjoint(texted(twilio))
    assert len(twilio.sent) == 30 + 1  # the flooder's first 30 looked like anyone's
    states = db.execute(
        select(Lead.hold_reason, func.count()).where(Lead.id.in_(held)).group_by(Lead.hold_reason)
    ).all()
    assert states == [(FLOOD_HOLD, 170)]
    assert db.scalar(select(func.count()).select_from(Lead)) == 201
    assert db.scalar(select(func.count(Message.id)).where(Message.lead_id.in_(held))) == 0


def test_held_leads_are_answered_once_the_flood_has_passed(
    client, account, reconfigure, db, twilio, worker, clock
):
    reconfigure(intake_rate_per_ip_per_min=3)
    held = flood(client, account, 8)[3:]
    worker()
    assert len(twilio.sent) == 3

    clock.shift(FLOOD_QUIET - timedelta(seconds=30))
    worker()
    assert len(twilio.sent) == 3  # not quiet for long enough yet

    clock.shift(timedelta(seconds=31))
    worker()
    assert phones_of(db, held) <= texted(twilio)
    assert len(twilio.sent) == 8  # each once
    db.expire_all()
    assert {db.get(Lead, i).response_state for i in held} == {"responded"}


def test_while_the_flood_goes_on_its_leads_stay_held(
    client, account, reconfigure, db, twilio, worker, clock
):
    reconfigure(intake_rate_per_ip_per_min=1)
    early = flood(client, account, 2)[1:]
    for minute in range(3):  # a held post every four minutes: never five minutes quiet
        clock.shift(timedelta(minutes=4))
        flood(client, account, 2, start=10 + 2 * minute)
        worker()
        assert phones_of(db, early).isdisjoint(texted(twilio))

    clock.shift(FLOOD_QUIET)
    worker()
    assert phones_of(db, early) <= texted(twilio)


def test_a_lead_held_past_an_hour_waits_for_a_person_then_goes_on_release(
    client, account, rt, reconfigure, db, twilio, worker, clock, monkeypatch
):
    reconfigure(intake_rate_per_ip_per_min=1)
    flood(client, account, 1)
    stale = flood(client, account, 1, start=1)[0]
    every, times = timedelta(minutes=4), 16
    assert every * times > RELEASE_MAX_AGE  # a held post every four minutes, for over an hour
    for i in range(times):
        clock.shift(every)
        flood(client, account, 2, start=10 + 2 * i)
    clock.shift(FLOOD_QUIET)
    worker()

    assert phones_of(db, [stale]).isdisjoint(texted(twilio))
    db.expire_all()
    lead = db.get(Lead, stale)
    assert (lead.response_state, lead.hold_reason) == ("held", UNREVIEWED)

    monkeypatch.setenv("DATABASE_URL", rt.settings.database_url)
    monkeypatch.setenv("REDIS_URL", rt.settings.redis_url)
    from loopstrat.cli import main

    listed = CliRunner().invoke(main, ["held-leads", "--account", str(account.id)])
    assert listed.exit_code == 0 and f"{stale}\t" in listed.output
    released = CliRunner().invoke(
        main, ["held-leads", "--account", str(account.id), "--release", str(stale)]
    )
    assert released.exit_code == 0, released.output
    reconfigure()  # the command configured its own runtime from the environment
    worker()
    assert phones_of(db, [stale]) <= texted(twilio)


def test_a_held_lead_without_consent_is_still_never_texted_when_released(
    client, account, reconfigure, db, twilio, worker, clock
):
    reconfigure(intake_rate_per_ip_per_min=1)
    flood(client, account, 1)
    no_consent = {**LEAD, "phone": "8012019999", "consent": ""}
    lead_id = post_lead(client, account, no_consent, environ_base=FLOODER).get_json()["lead_id"]
    clock.shift(FLOOD_QUIET)
    worker()
    assert "+18012019999" not in texted(twilio)
    db.expire_all()
    assert db.get(Lead, lead_id).response_state == "suppressed"
