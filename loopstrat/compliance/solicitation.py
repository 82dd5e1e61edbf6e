"""States' telephone-solicitation calendars: when a marketing text (a reactivation offer) may
reach someone there, by hour, weekday and holiday, beyond the federal 8:00-21:00.

One table, a citation per row. Applied to the marketing purpose only (replies to a person's
own inquiry and follow-ups about their own job keep quiet_hours.py's rules), by the state of
the recipient's ZIP or, without one, every state their number could be in; where a rule's
reach to texts or to existing customers is unclear the stricter reading is kept, since a held
offer costs a day and a wrong one costs a lawsuit. Pure; never reads a clock.

Sources, read 2026-12 (statutes, and law firms' and regulators' summaries of them); not
legal advice. Of the rules found only in secondary summaries, Kentucky's (a public-interest
law center's) is kept as the stricter reading; Nevada's and Wyoming's (one vendor's table,
no statute found) are left out, as are Maine's and South Dakota's rules for automated and
prerecorded calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from functools import lru_cache

import holidays

Window = tuple[time, time]
MONDAY, SATURDAY, SUNDAY = 0, 5, 6


@dataclass(frozen=True)
class StateCalendar:
    weekdays: Window  # Monday to Friday
    saturday: Window | None  # None: no solicitation that day
    sunday: Window | None
    no_holidays: bool  # none on the state's legal holidays
    citation: str

    def window_on(self, day: date, state: str) -> Window | None:
        if self.no_holidays and day in _holidays(state, day.year):
            return None
        if day.weekday() == SUNDAY:
            return self.sunday
        if day.weekday() == SATURDAY:
            return self.saturday
        return self.weekdays


def _every_day(start: int, end: int, citation: str, *, no_holidays: bool = False) -> StateCalendar:
    window = (time(start), time(end))
    return StateCalendar(window, window, window, no_holidays, citation)


def _no_sunday(start: int, end: int, citation: str, *, no_holidays: bool) -> StateCalendar:
    window = (time(start), time(end))
    return StateCalendar(window, window, None, no_holidays, citation)


STATES: dict[str, StateCalendar] = {
    # Ala. Admin. Code r. 770-X-5-.17(1)(b): 8-8, none on Sundays or state holidays (Ala.
    # Code §1-3-8). Its reach beyond telephone utilities is doubtful: the stricter reading.
    "AL": _no_sunday(8, 20, "Ala. Admin. Code r. 770-X-5-.17(1)(b)", no_holidays=True),
    # Conn. Gen. Stat. §42-288a as amended by P.A. 23-98 (texts named): 9 am to 8 pm.
    "CT": _every_day(9, 20, "Conn. Gen. Stat. §42-288a (P.A. 23-98)"),
    # Fla. Stat. §501.059(8)(a) (FTSA, texts since SB 1120) and §501.616(6)(a): 8-8.
    "FL": _every_day(8, 20, "Fla. Stat. §501.059(8)(a); §501.616(6)(a)"),
    # Kentucky: 10 am to 9 pm per the Kentucky Equal Justice Center's and vendors' summaries;
    # the statute's section was not found. Unverified: kept as the stricter reading.
    "KY": _every_day(10, 21, "unverified: kyjustice.org telemarketing Q&A (section not found)"),
    # La. R.S. 45:811 ("voice or data communication") and LPSC General Order R-29617 §V(A)(2):
    # 8-8, none on Sundays or the legal holidays the Commission and the governor name, even
    # with consent or a business relationship.
    "LA": _no_sunday(8, 20, "La. R.S. 45:811; LPSC Gen. Order R-29617 §V(A)(2)", no_holidays=True),
    # 201 CMR 12.02(2): unsolicited telephonic sales calls 8 am to 8 pm.
    "MA": _every_day(8, 20, "201 CMR 12.02(2)"),
    # Md. Com. Law §14-4501 et seq. (Stop the Spam Calls Act 2023, texts named): 8-8.
    "MD": _every_day(8, 20, "Md. Code, Com. Law §14-4501 et seq."),
    # Miss. Code §77-3-723 (texts: §77-3-705): 8 am to 8 pm, none on Sundays. The holiday ban
    # went with the PSC's rule in 2023; hours are Central, as every Mississippi zone is.
    "MS": _no_sunday(8, 20, "Miss. Code §77-3-723", no_holidays=False),
    # 15 O.S. §775C.4 (Oklahoma Telephone Solicitation Act 2022, texts named): 8-8.
    "OK": _every_day(8, 20, "15 O.S. §775C.4"),
    # ORS 646.561 et seq. as amended by HB 3865 (2025), from 1 Jan 2026: 8-8.
    "OR": _every_day(8, 20, "ORS 646.561 et seq. (HB 3865, 2025)"),
    # 73 P.S. §2245(a)(10): 8 am to 9 pm, none on legal holidays.
    "PA": _every_day(8, 21, "73 P.S. §2245(a)(10)", no_holidays=True),
    # R.I. Gen. Laws §5-61-3.6 (telephonic sellers): weekdays 9-6, Saturdays 10-5, none on
    # Sundays or state or federal holidays.
    "RI": StateCalendar(
        (time(9), time(18)), (time(10), time(17)), None, True, "R.I. Gen. Laws §5-61-3.6"
    ),
    # Tex. Bus. & Com. Code §301.051 (texts since SB 140, 1 Sep 2025): 9 am to 9 pm, and on
    # Sundays noon to 9 pm.
    "TX": StateCalendar(
        (time(9), time(21)),
        (time(9), time(21)),
        (time(12), time(21)),
        False,
        "Tex. Bus. & Com. Code §301.051",
    ),  # fmt: skip
    # Utah Code §13-25a-103(3): 8 am to 9 pm, none on Sundays or legal holidays (Utah Code
    # §63G-1-301) without prior express consent: the stricter reading.
    "UT": _no_sunday(8, 21, "Utah Code §13-25a-103(3)", no_holidays=True),
    # RCW 80.36.390 and RCW 19.158.040(2): 8 am to 8 pm.
    "WA": _every_day(8, 20, "RCW 80.36.390; RCW 19.158.040(2)"),
}


def marketing_window(day: date, states: frozenset[str], daily: Window) -> Window | None:
    """The hours a marketing text may arrive on this local day, in every state that may apply,
    within `daily` (the quiet-hours window); None when none may."""
    start, end = daily
    for state in states:
        calendar = STATES.get(state)
        if calendar is None:
            continue
        window = calendar.window_on(day, state)
        if window is None:
            return None
        start, end = max(start, window[0]), min(end, window[1])
    return (start, end) if start < end else None


@lru_cache(maxsize=256)
def _holidays(state: str, year: int) -> holidays.HolidayBase:
    # python-holidays' United States calendar with the state's own legal holidays.
    return holidays.country_holidays("US", subdiv=state, years=year)
