"""The campaigns page: each campaign's figures (loopstrat/campaigns/figures.py), the account's
own only."""

from __future__ import annotations

from flask import render_template

from loopstrat import runtime
from loopstrat.campaigns.figures import campaigns_of, figures
from loopstrat.dashboard import bp
from loopstrat.dashboard.sessions import current_user
from loopstrat.models import Account


@bp.get("/campaigns")
def campaigns() -> str:
    me = current_user()
    with runtime.current().sessions() as db:
        account = db.get_one(Account, me.account_id)
        shown = [figures(db, me.account_id, each) for each in campaigns_of(db, me.account_id)]
        return render_template(
            "dashboard/campaigns.html",
            user=me,
            campaigns=shown,
            review_link=account.review_link,
        )
