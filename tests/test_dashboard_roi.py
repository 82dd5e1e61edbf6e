"""The ROI page against an account whose figures were worked out by hand (below, per figure)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from loopstrat.dashboard.roi_figures import figures
from loopstrat.leads.first_touch import stamp_first_touch
from loopstrat.models import Contact, Lead, Message
from tests.conftest import make_account
from tests.dashboard_helpers import make_user, signed_in_client


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


def _lead(db, account, phone, received, *, source="web_form", **extra):
    contact = Contact(account_id=account.id, phone=phone, name="Fixture", consent_at=received)
    db.add(contact)
    db.flush()
    lead = Lead(account_id=account.id, contact_id=contact.id, source=source, received_at=received,
                **extra)  # fmt: skip
    db.add(lead)
    db.flush()
    return lead


def _text(
    db, lead, at_, *, direction="out", author="template", segments=1, sent=True, kind=None, **extra
):
    out = direction == "out"
    msg = Message(
        account_id=lead.account_id, contact_id=lead.contact_id, lead_id=lead.id,
        direction=direction, kind=kind or ("first_reply" if out else "inbound"),
        to_phone="+18015550100", from_phone="+18015550111", body="x",
        status="delivered" if out and sent else ("deferred" if out else "received"),
        drafted_by=author if out else "lead", segments=segments if out and sent else None,
        created_at=at_, sent_at=at_ if out and sent else None, **extra,
    )  # fmt: skip
    db.add(msg)
    db.flush()
    # What the sending and the inbound webhook write on the lead (its first answer, its reply).
    if out:
        stamp_first_touch(db, msg.id)
    else:
        lead.last_inbound_at = at_


@pytest.fixture
def fixture_account(rt, db, clock):
    """The clock stands at 2026-11-25 11:00 in Denver: the last 7 days are Nov 19 to 25, local,
    that is 2026-11-19 07:00 UTC up to 2026-11-26 07:00 UTC."""
    account = make_account(rt)
    other = make_account(rt, name="Other Co", twilio_number="+18015550222")
    # L1: a web form lead answered by the template in 20 s, texted back, booked for $1,200.
    l1 = _lead(db, account, "+18015550101", at(24, 17), status="booked",
               booked_at=at(24, 18), job_value_cents=120_000)  # fmt: skip
    _text(db, l1, at(24, 17, 0, 20))
    _text(db, l1, at(24, 17, 5), direction="in")
    # L2: 22:00 in Denver, held for quiet hours until 8:00: 10 h = 36,000 s; a 2-segment text.
    l2 = _lead(db, account, "+18015550102", at(24, 5), held_until=at(24, 15))
    _text(db, l2, at(24, 15), segments=2)
    # L3: from Google Ads, a person answered first, in 300 s.
    l3 = _lead(db, account, "+18015550103", at(23, 16), source="google_ads")
    _text(db, l3, at(23, 16, 5), author="person", kind="human_reply")
    # L4: Google Ads, Claude in 10 s (200,000 tokens in, 20,000 out), texted back, handed off
    # at 16:10 and a person answered at 16:25 (900 s); the contractor's alert is 1 segment.
    l4 = _lead(db, account, "+18015550104", at(22, 16), source="google_ads",
               handoff_at=at(22, 16, 10), handoffs=1)  # fmt: skip
    _text(
        db, l4, at(22, 16, 0, 10), author="claude", ai_input_tokens=200_000, ai_output_tokens=20_000
    )
    _text(db, l4, at(22, 16, 3), direction="in")
    _text(db, l4, at(22, 16, 10), author="template", kind="alert")
    _text(db, l4, at(22, 16, 25), author="person", kind="human_reply")
    # L5: not answered; one text still deferred (not sent: no cost).
    l5 = _lead(db, account, "+18015550105", at(21, 16))
    _text(db, l5, at(21, 16), sent=False)
    # Outside the period (Nov 10) and another account's booked lead: neither counts.
    old = _lead(db, account, "+18015550106", at(10, 16), status="booked",
                booked_at=at(10, 17), job_value_cents=99_900)  # fmt: skip
    _text(db, old, at(10, 16))
    theirs = _lead(db, other, "+18015550107", at(24, 16), status="booked",
                   booked_at=at(24, 17), job_value_cents=500_000)  # fmt: skip
    _text(db, theirs, at(24, 16), segments=9)
    # Claude's drafts of another account, and of this one before the period: neither is its cost.
    _text(db, theirs, at(24, 16, 1), author="claude", ai_input_tokens=1_000_000,
          ai_output_tokens=100_000, kind="follow_up")  # fmt: skip
    _text(db, old, at(10, 16, 1), author="claude", ai_input_tokens=1_000_000,
          ai_output_tokens=100_000, kind="follow_up")  # fmt: skip
    db.commit()
    return account


def test_the_figures_match_the_hand_computed_ones(rt, db, fixture_account, app):
    owner = signed_in_client(app.test_client(), make_user(rt, fixture_account, role="member"))
    page = owner.get("/dashboard/roi?days=7")
    assert page.status_code == 200
    rows = dict(
        csv.reader(io.StringIO(owner.get("/dashboard/roi.csv?days=7").get_data(as_text=True)))
    )
    assert rows["period start"] == "2026-11-19" and rows["period end"] == "2026-11-25"
    assert rows["leads"] == "5" and rows["leads answered"] == "4"
    # Answered: 10, 20, 300, 36000 s. Nearest rank: median = 2nd of 4, p90 = 4th of 4.
    assert rows["median seconds to first text, every lead, around the clock"] == "20.0"
    assert rows["p90 seconds to first text, every lead, around the clock"] == "36000.0"
    # At once: 10, 20, 300 (median 2nd, p90 3rd); held apart: 36000.
    assert (
        rows["median seconds to first text, answered at once"],
        rows["p90 seconds to first text, answered at once"],
    ) == ("20.0", "300.0")
    assert rows["leads, held for quiet hours"] == "1"
    assert rows["median seconds to first text, held for quiet hours"] == "36000.0"
    # By source: google_ads 10 and 300; web_form 20 and 36000.
    assert rows["median seconds to first text, source: google_ads"] == "10.0"
    assert rows["p90 seconds to first text, source: google_ads"] == "300.0"
    assert rows["median seconds to first text, source: web_form"] == "20.0"
    # First touch: AI or template 10, 20, 36000; a person 300.
    assert rows["median seconds to first text, first touch: AI or template"] == "20.0"
    assert rows["leads, first touch: a person"] == "1"
    assert rows["median seconds to first text, first touch: a person"] == "300.0"
    assert rows["median seconds to first text, a person answering a hand-off"] == "900.0"
    # Within 60 s: L1 and L4 of 5 leads. Texted back: L1 and L4 of 4 answered.
    assert (rows["share answered within 60 s"], rows["reply rate"], rows["hand-offs"]) == (
        "0.4",
        "0.5",
        "1",
    )
    assert (rows["booked jobs"], rows["revenue usd"]) == ("1", "1200.00")
    # Plan 99 x 7/30 = 23.10; 7 sent segments (1+2+1+1+1 and the 1-segment alert) x 0.0083 = 0.06;
    # AI 200,000 x $1/M + 20,000 x $5/M = 0.30. Cost 23.46; ROI 1200 / 23.46 = 51.15 -> 51.2.
    assert (rows["plan usd"], rows["sms segments"], rows["sms usd"], rows["ai usd"]) == (
        "23.10",
        "7",
        "0.06",
        "0.30",
    )
    assert (rows["cost usd"], rows["roi multiple"]) == ("23.46", "51.2")
    html = page.get_data(as_text=True)
    assert 'id="roi-revenue">$1,200.00<' in html and 'id="roi-multiple">51.2×<' in html
    assert 'id="roi-leads">5<' in html


def test_a_custom_period_and_bad_ones(rt, db, fixture_account, app):
    owner = signed_in_client(app.test_client(), make_user(rt, fixture_account))
    nov_10 = owner.get("/dashboard/roi.csv?start=2026-11-10&end=2026-11-10").get_data(as_text=True)
    rows = dict(csv.reader(io.StringIO(nov_10)))
    assert (rows["leads"], rows["revenue usd"], rows["plan usd"]) == ("1", "999.00", "3.30")
    reversed_ = owner.get("/dashboard/roi?start=2026-11-20&end=2026-11-10")
    assert reversed_.status_code == 400 and "end date is before the start" in reversed_.get_data(
        as_text=True
    )
    assert owner.get("/dashboard/roi?days=12").status_code == 400
    assert owner.get("/dashboard/roi.csv?start=soon&end=2026-11-10").status_code == 400
    # The page shows the last 30 days instead, and its CSV link is of those, not the bad ask.
    page = reversed_.get_data(as_text=True)
    assert "(30 days" in page and 'href="/dashboard/roi.csv?days=30"' in page


def test_the_charts_are_svg_of_our_own(rt, db, fixture_account, app):
    owner = signed_in_client(app.test_client(), make_user(rt, fixture_account))
    for path in ("/dashboard/roi/leads-per-day.svg?days=7", "/dashboard/roi/speed.svg?days=90"):
        chart = owner.get(path)
        assert chart.status_code == 200 and chart.mimetype == "image/svg+xml"
        body = chart.get_data(as_text=True)
        assert "<svg" in body and "//kozea.github.io" not in body
        assert "script-src" not in chart.headers["Content-Security-Policy"]  # no script at all
    days = owner.get("/dashboard/roi/leads-per-day.svg?days=7").get_data(as_text=True)
    assert "Nov 24" in days and "Nov 19" in days
    # 90 bars: every tenth day labelled in full, none cut to "…".
    quarter = owner.get("/dashboard/roi/leads-per-day.svg?days=90").get_data(as_text=True)
    assert "…" not in quarter and "Aug 28" in quarter  # the period's first day


def test_the_query_functions_alone(rt, db, fixture_account):
    from loopstrat.dashboard.roi_figures import Period

    period = Period(at(19, 7), at(26, 7), 7)
    found = figures(db, fixture_account.id, period, rt.settings)
    assert (found.leads, found.booked, found.revenue_usd, found.roi_multiple) == (
        5,
        1,
        1200.0,
        51.2,
    )
