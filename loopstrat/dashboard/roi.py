"""The ROI page: what Loopstrat brought in a period against what it cost, with two charts
and the figures as CSV. Every figure is computed in SQL (roi_figures, roi_charts)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Response, render_template, request

from loopstrat import runtime
from loopstrat.dashboard import bp
from loopstrat.dashboard.roi_charts import bar_chart, leads_per_day, speed_buckets
from loopstrat.dashboard.roi_figures import Figures, Period, figures
from loopstrat.dashboard.sessions import current_user
from loopstrat.models import Account

CHOICES = (7, 30, 90)
MAX_DAYS = 366
# A chart is an image: its own inline styles are harmless there, and no script ever runs.
CHART_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


class BadPeriod(ValueError):
    """The period asked for, in words for the person who asked."""


@bp.errorhandler(BadPeriod)
def bad_period(exc: BadPeriod) -> tuple[str, int, dict[str, str]]:
    """The CSV and the charts: a plain answer saying what was wrong."""
    return str(exc), 400, {"Content-Type": "text/plain; charset=utf-8"}


@bp.get("/roi")
def roi() -> tuple[str, int]:
    account = _account()
    try:
        period = chosen_period(account.timezone)
        error = None
    except BadPeriod as exc:
        period, error = last_days(30, account.timezone), str(exc)
    with runtime.current().sessions() as db:
        found = figures(db, account.id, period, runtime.current().settings)
    page = render_template(
        "dashboard/roi.html",
        user=current_user(),
        f=found,
        period=period,
        zone=ZoneInfo(account.timezone),
        last_day=(period.end - timedelta(days=1)).astimezone(ZoneInfo(account.timezone)),
        choices=CHOICES,
        args=request.args.to_dict(),
        # The CSV and the charts are of the period shown: the last 30 days after a bad ask.
        shown={"days": "30"} if error else request.args.to_dict(),
        error=error,
    )
    return page, 400 if error else 200


@bp.get("/roi.csv")
def roi_csv() -> Response:
    account = _account()
    period = chosen_period(account.timezone)
    with runtime.current().sessions() as db:
        found = figures(db, account.id, period, runtime.current().settings)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["figure", "value"])
    writer.writerows(csv_rows(found, period, account.timezone))
    name = f"loopstrat-roi-{period.days}d.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )


@bp.get("/roi/leads-per-day.svg")
def leads_chart() -> Response:
    account = _account()
    period = chosen_period(account.timezone)
    with runtime.current().sessions() as db:
        series = leads_per_day(db, account.id, period, account.timezone)
    labels = [(f"{d:%b %-d}", n) for d, n in series]
    return _svg(bar_chart("Leads per day", labels))


@bp.get("/roi/speed.svg")
def speed_chart() -> Response:
    account = _account()
    period = chosen_period(account.timezone)
    with runtime.current().sessions() as db:
        series = speed_buckets(db, account.id, period)
    return _svg(bar_chart("Leads by time to first text", series))


def _svg(svg: bytes) -> Response:
    return Response(svg, mimetype="image/svg+xml", headers={"Content-Security-Policy": CHART_CSP})


def _account() -> Account:
    with runtime.current().sessions() as db:
        account = db.get_one(Account, current_user().account_id)
        db.expunge(account)
        return account


def chosen_period(zone: str) -> Period:
    """?days=7|30|90, or ?start=YYYY-MM-DD&end=YYYY-MM-DD (both days counted), on the
    account's calendar."""
    start, end = request.args.get("start"), request.args.get("end")
    if start or end:
        first, last = _day(start, "start"), _day(end, "end")
        if last < first:
            raise BadPeriod("The end date is before the start date.")
        if (last - first).days >= MAX_DAYS:
            raise BadPeriod(f"Choose at most {MAX_DAYS} days.")
        return _between(first, last, zone)
    days = request.args.get("days", "30")
    if not days.isdigit() or int(days) not in CHOICES:
        raise BadPeriod(f"Choose 7, 30 or 90 days, or a start and end date (not {days!r}).")
    return last_days(int(days), zone)


def last_days(days: int, zone: str) -> Period:
    today = datetime.now(ZoneInfo(zone)).date()
    return _between(today - timedelta(days=days - 1), today, zone)


def _between(first: date, last: date, zone: str) -> Period:
    tz = ZoneInfo(zone)
    start = datetime.combine(first, time(), tz)
    end = datetime.combine(last + timedelta(days=1), time(), tz)
    return Period(start=start, end=end, days=(last - first).days + 1)


def _day(value: str | None, name: str) -> date:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        raise BadPeriod(f"The {name} date must look like 2026-11-30.") from None


def csv_rows(f: Figures, period: Period, zone: str) -> list[tuple[str, object]]:
    tz = ZoneInfo(zone)
    rows: list[tuple[str, object]] = [
        ("period start", f"{period.start.astimezone(tz):%Y-%m-%d}"),
        ("period end", f"{(period.end - timedelta(days=1)).astimezone(tz):%Y-%m-%d}"),
        ("leads", f.leads),
        ("leads answered", f.answered),
    ]
    for s in (f.around_the_clock, *f.splits, f.handoff_answer):
        rows.append((f"leads, {s.label}", s.leads))
        rows.append((f"median seconds to first text, {s.label}", _blank(s.median_s)))
        rows.append((f"p90 seconds to first text, {s.label}", _blank(s.p90_s)))
    rows += [
        ("share answered within 60 s", _blank(f.answered_within_60s)),
        ("reply rate", _blank(f.reply_rate)),
        ("hand-offs", f.handoffs),
        ("booked jobs", f.booked),
        ("revenue usd", f"{f.revenue_usd:.2f}"),
        ("plan usd", f"{f.cost.plan_usd:.2f}"),
        ("sms segments", f.cost.sms_segments),
        ("sms usd", f"{f.cost.sms_usd:.2f}"),
        ("ai tokens in", f.cost.ai_input_tokens),
        ("ai tokens out", f.cost.ai_output_tokens),
        ("ai usd", f"{f.cost.ai_usd:.2f}"),
        ("cost usd", f"{f.cost.total_usd:.2f}"),
        ("roi multiple", _blank(f.roi_multiple)),
    ]
    return rows


def _blank(value: object) -> object:
    return "" if value is None else value
