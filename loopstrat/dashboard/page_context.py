"""What every signed-in page shows besides its own content: the hand-off badge, times and
reasons written for a person (the account's clock with its zone named, words for codes), and
the page for what is not there."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import g, render_template
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from loopstrat import runtime
from loopstrat.conversations.outcomes import REASONS
from loopstrat.dashboard import bp
from loopstrat.dashboard.feed_query import waiting_for_a_person
from loopstrat.models import Account


@bp.context_processor
def page_context() -> dict[str, Any]:
    user = g.get("user")
    if user is None:
        return {}
    with runtime.current().sessions() as db:
        zone = db.scalar(select(Account.timezone).where(Account.id == user.account_id))
        return {
            "handoff_count": waiting_for_a_person(db, user.account_id),
            "account_zone": ZoneInfo(zone or "UTC"),
        }


@bp.app_template_filter("local")
def local_time(at: datetime | None, zone: ZoneInfo) -> str:
    """A stored UTC time on the account's clock, its zone named: 'Dec 3, 2026 22:55 MST'."""
    return at.astimezone(zone).strftime("%b %-d, %Y %-H:%M %Z") if at else ""


@bp.app_template_filter("words")
def reason_words(code: str | None) -> str:
    """A stored reason code for a person: 'asked_about_price' -> 'asked about price'."""
    return REASONS.get(code or "", (code or "").replace("_", " "))


@bp.errorhandler(404)
def not_found(exc: NotFound) -> NotFound | tuple[str, int]:
    """A missing page, another account's lead, a member's Settings: the same 404, but with the
    dashboard's menu to go on from instead of a bare error page."""
    if g.get("user") is None:
        return exc
    return render_template("dashboard/not_found.html", user=g.user), 404
