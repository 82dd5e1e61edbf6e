"""The contractor's dashboard: sign-in, the lead feed, conversations, ROI and settings.

Every view but sign-in runs as a signed-in user (require_sign_in sets g.user) and every query
filters on g.user.account_id: an id from another account finds nothing and answers 404.
"""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers import Response

from loopstrat.dashboard.sessions import load_signed_in_user

bp = Blueprint(
    "dashboard",
    __name__,
    url_prefix="/dashboard",
    static_folder="static",
    static_url_path="/static",
)
# Reached without signing in: the sign-in form itself, an invite link, and the app's assets.
PUBLIC_ENDPOINTS = {"dashboard.sign_in", "dashboard.accept_invite", "dashboard.static"}


@bp.before_request
def require_sign_in() -> Response | None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if load_signed_in_user() is None:
        return redirect(url_for("dashboard.sign_in", next=request.full_path.rstrip("?")))
    return None


@bp.after_request
def never_cached(response: Response) -> Response:
    """A page, a CSV export or a chart holds an account's leads: no shared computer's cache or
    back button may show it to the next person. The app's own assets may be cached."""
    if request.endpoint != "dashboard.static":
        response.headers["Cache-Control"] = "no-store"
    return response


# The views register themselves on bp when imported (after bp exists).
from loopstrat.dashboard import views  # noqa: E402, F401
