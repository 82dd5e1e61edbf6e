"""Property, end to end: whenever a lead arrives, its reply reaches Twilio only inside the
recipient's allowed hours, may wait there only until they end, and goes exactly once."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

import responses
import time_machine
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import _empty_tables, make_account
from tests.leads_helpers import LEAD
from tests.twilio_api import FakeTwilio
from workers.scheduler import dispatch_due

# (phone, ZIP, zone, last allowed hour): the ZIP decides the zone; FL ends the day at 20:00.
SALT_LAKE = ("801-555-0142", "84101", "America/Denver", time(21, 0))
MIAMI = ("305-555-0142", "33101", "America/New_York", time(20, 0))
RECIPIENTS = [
    SALT_LAKE,
    MIAMI,
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
# Random clocks almost never land on the edges: pin them (Salt Lake is UTC-7 in winter, UTC-6
# from the US spring-forward on 8 March 2026 to the fall-back on 1 November 2026).
@example(arrival=datetime(2026, 1, 16, 3, 59, tzinfo=UTC), recipient=SALT_LAKE)  # 20:59
@example(arrival=datetime(2026, 1, 16, 3, 59, 30, tzinfo=UTC), recipient=SALT_LAKE)  # 20:59:30
@example(arrival=datetime(2026, 1, 16, 4, 0, tzinfo=UTC), recipient=SALT_LAKE)  # 21:00
@example(arrival=datetime(2026, 1, 15, 14, 59, tzinfo=UTC), recipient=SALT_LAKE)  # 7:59
@example(arrival=datetime(2026, 1, 15, 15, 0, tzinfo=UTC), recipient=SALT_LAKE)  # 8:00
@example(arrival=datetime(2026, 1, 16, 0, 59, tzinfo=UTC), recipient=MIAMI)  # 19:59 in Florida
@example(arrival=datetime(2026, 1, 16, 1, 0, tzinfo=UTC), recipient=MIAMI)  # 20:00 in Florida
@example(arrival=datetime(2026, 3, 8, 8, 30, tzinfo=UTC), recipient=SALT_LAKE)  # 1:30 MST, spring
@example(arrival=datetime(2026, 3, 8, 13, 59, tzinfo=UTC), recipient=SALT_LAKE)  # 7:59 MDT
@example(arrival=datetime(2026, 3, 9, 2, 59, tzinfo=UTC), recipient=SALT_LAKE)  # 20:59 MDT
@example(arrival=datetime(2026, 11, 1, 7, 30, tzinfo=UTC), recipient=SALT_LAKE)  # 1:30 MDT, fall
@example(arrival=datetime(2026, 11, 1, 8, 30, tzinfo=UTC), recipient=SALT_LAKE)  # 1:30 MST again
@example(arrival=datetime(2026, 11, 2, 3, 59, tzinfo=UTC), recipient=SALT_LAKE)  # 20:59 MST
@example(arrival=datetime(2026, 11, 1, 12, 59, tzinfo=UTC), recipient=MIAMI)  # 7:59 EST, fall
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
        validities = [int(params["ValidityPeriod"]) for params in twilio.params_of_calls()]
    assert len(twilio.created) == 1
    sent_at = parsedate_to_datetime(twilio.created[0]["date_created"])
    validity = timedelta(seconds=validities[0])
    # Twilio may deliver it at any moment until its validity ends: all of it in allowed hours.
    assert allowed_in(sent_at, zone, day_end)
    assert allowed_in(sent_at + validity - timedelta(microseconds=1), zone, day_end)
    assert (sent_at + validity).astimezone(ZoneInfo(zone)).date() == local_day(sent_at, zone)


def allowed_in(moment: datetime, zone: str, day_end: time) -> bool:
    return time(8, 0) <= moment.astimezone(ZoneInfo(zone)).time() < day_end


def local_day(moment: datetime, zone: str) -> date:
    return moment.astimezone(ZoneInfo(zone)).date()
