"""The ROI page's two charts, drawn on the server as SVG by pygal: leads per day and how fast
they were answered. The series are SQL aggregates; pygal gets a few dozen numbers."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pygal
from pygal.style import Style
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from loopstrat.dashboard.roi_figures import Period
from loopstrat.models import Lead

# pygal adds a legacy import hook (for pygal.maps plugins, unused here) to sys.meta_path; it
# lacks find_spec, so every later import in the process warns, and warnings-as-errors break.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]
# pygal links its tooltip script from a CDN by default: js=[] keeps every byte our own.
CHART = {"js": [], "show_legend": False, "height": 300, "width": 720, "margin": 10}
STYLE = Style(background="white", plot_background="white", colors=("#1f5fbf",))
SPEED_BUCKETS = (
    ("under 1 min", 0, 60),
    ("1-5 min", 60, 300),
    ("5-60 min", 300, 3600),
    ("1-12 h", 3600, 43_200),
    ("over 12 h", 43_200, None),
)


def leads_per_day(
    session: Session, account_id: int, period: Period, zone: str
) -> list[tuple[date, int]]:
    day = _local_day(session, zone, period)
    counts = {
        str(day_of): n  # a date on PostgreSQL, its ISO text on SQLite
        for day_of, n in session.execute(
            select(day, func.count())
            .where(
                Lead.account_id == account_id,
                Lead.received_at >= period.start,
                Lead.received_at < period.end,
            )
            .group_by(day)
        )
    }
    first = period.start.astimezone(ZoneInfo(zone)).date()
    days = [first + timedelta(days=n) for n in range(period.days)]
    return [(d, int(counts.get(d.isoformat(), 0))) for d in days]


def _local_day(session: Session, zone: str, period: Period):  # type: ignore[no-untyped-def]
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone(zone, Lead.received_at))
    # SQLite knows no zones: the period's UTC offset (a DST switch inside it moves an hour).
    offset = period.end.astimezone(ZoneInfo(zone)).utcoffset() or timedelta()
    return func.date(Lead.received_at, f"{int(offset.total_seconds() // 60):+d} minutes")


def speed_buckets(session: Session, account_id: int, period: Period) -> list[tuple[str, int]]:
    speed = Lead.first_response_s
    columns = [
        func.sum(case((and_(speed >= low, speed < high) if high else speed >= low, 1), else_=0))
        for _label, low, high in SPEED_BUCKETS
    ]
    row = session.execute(
        select(*columns).where(
            Lead.account_id == account_id,
            Lead.received_at >= period.start,
            Lead.received_at < period.end,
            speed.is_not(None),
        )
    ).one()
    return [(label, int(n or 0)) for (label, _l, _h), n in zip(SPEED_BUCKETS, row, strict=True)]


def bar_chart(title: str, series: list[tuple[str, int]]) -> bytes:
    crowded = len(series) > 14
    chart = pygal.Bar(
        title=title,
        style=STYLE,
        show_minor_x_labels=not crowded,
        x_labels_major_every=max(1, len(series) // 10),
        # pygal cuts a label to its bar's width even when only every tenth is shown: a 90-day
        # chart read "…" under every bar.
        truncate_label=-1,
        **CHART,
    )
    chart.x_labels = [label for label, _n in series]
    chart.add(title, [n for _label, n in series])
    svg: bytes = chart.render()
    return svg
