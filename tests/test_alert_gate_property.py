"""The ALERT purpose as properties: an alert to the contractor goes only with their consent,
never after their STOP or from an inactive account, and waits out their do-not-disturb window
to its end, in any zone, across DST; the TCPA's quiet hours do not hold it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from loopstrat.compliance import ALERT, Allow, Block, Defer, Recipient, may_text
from loopstrat.compliance.quiet_hours import DoNotDisturb
from tests.test_gates_property import ZONES, moments

wall_times = st.builds(time, hour=st.integers(0, 23), minute=st.sampled_from([0, 15, 30, 59]))
windows = st.builds(DoNotDisturb, start=wall_times, end=wall_times, zone=st.sampled_from(ZONES))
alert_phones = st.builds(
    Recipient,
    zones=st.sampled_from(ZONES).map(lambda zone: (zone,)),
    states=st.just(frozenset()),
    consent=st.booleans(),
    marketing_consent=st.booleans(),
    opted_out=st.booleans(),
    do_not_disturb=st.none() | windows,
)


def inside(moment: datetime, dnd: DoNotDisturb | None) -> bool:
    if dnd is None:
        return False
    clock = moment.astimezone(ZoneInfo(dnd.zone)).time()
    if dnd.start <= dnd.end:
        return dnd.start <= clock < dnd.end
    return clock >= dnd.start or clock < dnd.end


def clocks_changed_within(moment: datetime, zone: str, span: timedelta) -> bool:
    tz = ZoneInfo(zone)
    return moment.astimezone(tz).utcoffset() != (moment - span).astimezone(tz).utcoffset()


@settings(max_examples=500)
@given(recipient=alert_phones, now=moments, active=st.booleans())
def test_an_alert_needs_consent_an_active_account_and_no_stop_and_waits_out_dnd(
    recipient, now, active
):
    decision = may_text(recipient=recipient, purpose=ALERT, now=now, account_active=active)
    dnd = recipient.do_not_disturb
    if not active:
        assert decision == Block("account_inactive")
    elif recipient.opted_out:
        assert decision == Block("opted_out")
    elif not recipient.consent:
        assert decision == Block("no_consent")
    elif inside(now, dnd):
        assert isinstance(decision, Defer) and decision.reason == "alert_dnd"
        until = decision.until
        assert now < until <= now + timedelta(hours=25)
        assert not inside(until, dnd)
        # The window's end, to the minute; the night the clocks change an end that falls in
        # the skipped hour may come up to that hour late.
        assert dnd is not None
        minute = timedelta(minutes=1)
        if not clocks_changed_within(until, dnd.zone, timedelta(hours=1)):
            assert until - minute <= now or inside(until - minute, dnd)
    else:
        assert decision == Allow()


@given(now=moments, zone=st.sampled_from(ZONES))
def test_an_alert_without_a_dnd_window_goes_at_any_hour(now, zone):
    contractor = Recipient(
        zones=(zone,), states=frozenset(), consent=True, marketing_consent=False, opted_out=False
    )
    assert may_text(recipient=contractor, purpose=ALERT, now=now, account_active=True) == Allow()


def test_alerts_keep_no_tcpa_quiet_hours_only_the_contractor_s_own_window():
    three_am_denver = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    contractor = Recipient(
        zones=("America/Denver",),
        states=frozenset(),
        consent=True,
        marketing_consent=False,
        opted_out=False,
        do_not_disturb=DoNotDisturb(time(12, 0), time(13, 0), "America/Denver"),
    )
    decision = may_text(
        recipient=contractor, purpose=ALERT, now=three_am_denver, account_active=True
    )
    assert decision == Allow()
