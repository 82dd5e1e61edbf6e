"""The contractor's dashboard. For now a status page; leads, conversations and ROI come next."""

from __future__ import annotations

from flask import Blueprint, render_template

from loopstrat import runtime

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


@bp.get("/")
def index() -> str:
    return render_template("dashboard/index.html", banner=runtime.current().settings.banner())
