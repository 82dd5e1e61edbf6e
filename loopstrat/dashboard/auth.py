"""Sign in and sign out. One generic error: it never says whether the email or the password
was wrong."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from loopstrat import runtime
from loopstrat.clock import utcnow
from loopstrat.dashboard import bp
from loopstrat.dashboard.passwords import verify_password
from loopstrat.dashboard.sessions import sign_in_as, sign_out
from loopstrat.models import User

SIGN_IN_FAILED = "That email and password do not match an account."


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Response | str | tuple[str, int]:
    if request.method == "GET":
        return render_template("dashboard/sign_in.html", error=None, email="")
    email = request.form.get("email", "").strip().lower()
    password = request.form.get("password", "")
    with runtime.current().sessions() as db:
        user = db.scalar(select(User).where(func.lower(User.email) == email))
        if not verify_password(user.password_hash if user else None, password) or user is None:
            page = render_template("dashboard/sign_in.html", error=SIGN_IN_FAILED, email=email)
            return page, 401
        user.last_sign_in_at = utcnow()
        db.commit()
        sign_in_as(user)
    return redirect(_safe_next(request.args.get("next")))


@bp.post("/sign-out")
def sign_out_view() -> Response:
    sign_out()
    return redirect(url_for("dashboard.sign_in"))


def _safe_next(target: str | None) -> str:
    """Only a path on this dashboard: never an open redirect to another site."""
    if target and target.startswith("/dashboard/") and not target.startswith("//"):
        return target
    return url_for("dashboard.index")
