"""The dashboard's front door: the lead feed once signed in."""

from __future__ import annotations

from flask import render_template

from loopstrat.dashboard import bp
from loopstrat.dashboard.sessions import current_user


@bp.get("/")
def index() -> str:
    return render_template("dashboard/index.html", user=current_user())
