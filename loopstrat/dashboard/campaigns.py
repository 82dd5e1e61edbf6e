"""The campaigns page: each campaign's figures (loopstrat/campaigns/figures.py), and for an
admin, pausing, resuming or cancelling a reactivation. The account's own campaigns only."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, render_template, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from loopstrat import runtime
from loopstrat.campaigns import reactivation
from loopstrat.campaigns.figures import campaigns_of, figures
from loopstrat.clock import utcnow
from loopstrat.dashboard import bp
from loopstrat.dashboard.audit import record
from loopstrat.dashboard.sessions import admin_required, current_user
from loopstrat.models import Account, Campaign


@bp.get("/campaigns")
def campaigns() -> str:
    me = current_user()
    with runtime.current().sessions() as db:
        account = db.get_one(Account, me.account_id)
        found = campaigns_of(db, me.account_id)
        shown = [(each, figures(db, me.account_id, each)) for each in found]
        now = utcnow()
        reach = {
            each.id: reactivation.audience_size(db, each, now)
            for each in found
            if each.state == "draft"
        }
        return render_template(
            "dashboard/campaigns.html",
            user=me,
            campaigns=shown,
            reach=reach,
            review_link=account.review_link,
        )


ACTIONS: dict[str, Callable[[Session, Campaign], object]] = {
    "launch": lambda db, each: reactivation.launch(db, each, utcnow()),
    "pause": lambda db, each: reactivation.pause(db, each, "paused from the dashboard"),
    "resume": reactivation.resume,
    "cancel": reactivation.cancel,
}


@bp.post("/campaigns/<int:campaign_id>/<action>")
@admin_required
def campaign_action(campaign_id: int, action: str) -> Response:
    if action not in ACTIONS:
        abort(404)
    me = current_user()
    with runtime.current().sessions() as db:
        each = db.scalar(
            select(Campaign).where(Campaign.id == campaign_id, Campaign.account_id == me.account_id)
        )
        if each is None:
            abort(404)
        try:
            ACTIONS[action](db, each)
        except reactivation.CampaignRefused as exc:
            flash(f"Not done: {exc}.", "error")
            return redirect(url_for("dashboard.campaigns"))
        record(db, account_id=me.account_id, actor=me.email, action=f"campaign.{action}",
               detail={"campaign_id": campaign_id})  # fmt: skip
        db.commit()
        flash(f"{each.name}: {each.state}.")
    return redirect(url_for("dashboard.campaigns") + f"#campaign-{campaign_id}")
