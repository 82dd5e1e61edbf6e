"""The dashboard's front door: the lead feed, newest first, refreshed by htmx every few
seconds (the rows only, through /dashboard/leads/rows) so a new lead shows without a reload."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from sqlalchemy.orm import Session

from loopstrat import runtime
from loopstrat.dashboard import bp
from loopstrat.dashboard.feed_query import (
    STATUSES,
    FeedFilter,
    feed_rows,
    sources,
)
from loopstrat.dashboard.sessions import current_user
from loopstrat.models import Account

POLL_SECONDS = 5


@bp.get("/")
def index() -> tuple[str, int]:
    wanted, error = _wanted()
    with runtime.current().sessions() as db:
        page = render_template(
            "dashboard/index.html",
            user=current_user(),
            rows=_rows(db, wanted),
            wanted=wanted,
            statuses=STATUSES,
            sources=sources(db, current_user().account_id),
            error=error,
            poll_seconds=POLL_SECONDS,
        )
    return page, 400 if error else 200


@bp.get("/leads/rows")
def feed_rows_fragment() -> str:
    wanted, _error = _wanted()
    with runtime.current().sessions() as db:
        return render_template("dashboard/_feed_rows.html", rows=_rows(db, wanted))


def _rows(db: Session, wanted: FeedFilter) -> list[Any]:
    account = db.get_one(Account, current_user().account_id)
    return feed_rows(db, account.id, account.timezone, account.ai_mode, wanted)


def _wanted() -> tuple[FeedFilter, str | None]:
    status = request.args.get("status", "")
    source = request.args.get("source", "")[:60]
    q = request.args.get("q", "")[:100]
    if status and status not in STATUSES:
        return FeedFilter(source=source, q=q), f"No status {status!r}: showing every status."
    return FeedFilter(status=status, source=source, q=q), None
