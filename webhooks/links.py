"""GET /r/<token>: a tracked link from a campaign text. Records the click, then redirects to
the account's review page; 404 for a token nobody was sent."""

from __future__ import annotations

from flask import Blueprint, abort, redirect
from werkzeug.wrappers.response import Response

from loopstrat import runtime
from loopstrat.campaigns.links import follow
from loopstrat.clock import utcnow

bp = Blueprint("links", __name__)


@bp.get("/r/<token>")
def tracked_link(token: str) -> Response:
    with runtime.current().sessions() as session:
        target = follow(session, token, utcnow())
        if target is None:
            abort(404)
        session.commit()
    # 302, not 301: a browser must come back through here, so every click is counted.
    response = redirect(target, code=302)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token stays ours
    return response
