"""Sign in and sign out. One generic error: it never says whether the email or the password
was wrong. Attempts are limited per email and per address, before any password is checked."""

from __future__ import annotations

import hashlib

from flask import redirect, render_template, request, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from loopstrat import runtime
from loopstrat.clock import utcnow
from loopstrat.dashboard import bp
from loopstrat.dashboard.passwords import verify_password
from loopstrat.dashboard.sessions import sign_in_as, sign_out
from loopstrat.leads.admission import sender_of
from loopstrat.models import User
from loopstrat.ratelimit import retry_after_s

SIGN_IN_FAILED = "That email and password do not match an account."
TOO_MANY = "Too many sign-in attempts. Try again in {seconds} seconds."


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Response | str | tuple[str, int] | tuple[str, int, dict[str, str]]:
    if request.method == "GET":
        return render_template("dashboard/sign_in.html", error=None, email="")
    email = request.form.get("email", "").strip().lower()
    password = request.form.get("password", "")
    if too_many_attempts(email):
        return _refused(email)
    with runtime.current().sessions() as db:
        user = db.scalar(
            select(User).where(func.lower(User.email) == email, User.removed_at.is_(None))
        )
        if not verify_password(user.password_hash if user else None, password) or user is None:
            page = render_template("dashboard/sign_in.html", error=SIGN_IN_FAILED, email=email)
            return page, 401
        user.last_sign_in_at = utcnow()
        sign_in_as(db, user)
        db.commit()
    return redirect(_safe_next(request.args.get("next")))


@bp.post("/sign-out")
def sign_out_view() -> Response:
    sign_out()
    # Said by the address, not a flash: the sign-in page must never eat another page's flash.
    return redirect(url_for("dashboard.sign_in", signed_out=1))


def too_many_attempts(email: str) -> bool:
    """A password guess for this email, counted: signing in, or the current password on the
    password page (a stolen cookie must not guess it at argon2's speed). Counted in the
    limiter's Redis; without Redis every attempt is let through (argon2 still makes each guess
    cost a tenth of a second)."""
    rt = runtime.current()
    # The key holds a digest, not the email: Redis keys are no place for personal data.
    digest = hashlib.sha256(email.encode()).hexdigest()[:24]
    counts = rt.limiter.count([f"signin-ip:{sender_of(request.remote_addr)}", f"signin:{digest}"])
    if counts is None:
        return False
    by_address, by_email = counts
    s = rt.settings
    return by_address > s.sign_in_rate_per_ip_per_min or by_email > s.sign_in_rate_per_email_per_min


def _refused(email: str) -> tuple[str, int, dict[str, str]]:
    seconds = retry_after_s()
    page = render_template(
        "dashboard/sign_in.html", error=TOO_MANY.format(seconds=seconds), email=email
    )
    return page, 429, {"Retry-After": str(seconds)}


def _safe_next(target: str | None) -> str:
    """Only a path on this dashboard: never an open redirect to another site, and nothing a
    Location header could be split with (a CR/LF answered 500 after a good sign-in)."""
    if (
        target
        and target.startswith("/dashboard/")
        and "\\" not in target
        and target.isprintable()
        and " " not in target
    ):
        return target
    return url_for("dashboard.index")
