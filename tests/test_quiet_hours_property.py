"""Property, end to end: whenever a lead arrives, its reply reaches Twilio only inside the
recipient's allowed hours, and exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

import responses
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import _empty_tables, make_account
from tests.test_speed_to_lead import LEAD
from tests.twilio_api import FakeTwilio
from workers.scheduler import dispatch_due

# (phone, ZIP, zone, last allowed hour): the ZIP decides the zone; FL ends the day at 20:00.
RECIPIENTS = [
    ("801-555-0142", "84101", "America/Denver", time(21, 0)),
    ("305-555-0142", "33101", "America/New_York", time(20, 0)),
    ("808-555-0142", "96813", "Pacific/Honolulu", time(21, 0)),
    ("907-555-0142", "99501", "America/Anchorage", time(21, 0)),
    ("206-555-0142", "98101", "America/Los_Angeles", time(20, 0)),
    ("212-555-0142", "10001", "America/New_York", time(21, 0)),
]


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    arrival=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    recipient=st.sampled_from(RECIPIENTS),
)
def test_a_reply_is_sent_once_and_only_inside_allowed_hours(rt, app, worker, arrival, recipient):
    _empty_tables(rt)
    rt.redis.flushdb()
    phone, zip_code, zone, day_end = recipient
    account = make_account(rt)
    with (
        time_machine.travel(arrival, tick=False) as clock,
        responses.RequestsMock(assert_all_requests_are_fired=False) as mock,
    ):
        twilio = FakeTwilio(mock)
        twilio.install()
        body = {**LEAD, "phone": phone, "zip": zip_code}
        assert app.test_client().post(f"/leads/{account.form_key}", json=body).status_code == 202
        worker()
        for _ in range(12 * 14):  # 14 hours of 5-minute ticks: longer than any night
            clock.shift(timedelta(minutes=5))
            if dispatch_due(rt):
                worker()
            if twilio.created:
                break
    assert len(twilio.created) == 1
    sent_at = parsedate_to_datetime(twilio.created[0]["date_created"])
    local = sent_at.astimezone(ZoneInfo(zone)).time()
    assert time(8, 0) <= local < day_end
