"""Accepting an invite link: the new user picks an email and password and is signed in."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from loopstrat import runtime
from loopstrat.dashboard import bp, invites
from loopstrat.dashboard.invites import InviteGone
from loopstrat.dashboard.sessions import sign_in_as
from loopstrat.dashboard.users import MIN_PASSWORD_CHARS, UserRefused

GONE = "This invite link has expired or was already used. Ask your admin for a new one."


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invite(token: str) -> Response | tuple[str, int]:
    with runtime.current().sessions() as db:
        try:
            invite = invites.open_invite(db, token)
        except InviteGone:
            return render_template("dashboard/invite.html", gone=GONE, error=None, email=""), 404
        role = invite.role
        if request.method == "GET":
            return _form(role, error=None, email=""), 200
        email = request.form.get("email", "")
        password = request.form.get("password", "")
        if password != request.form.get("confirm", ""):
            return _form(role, error="The two passwords differ.", email=email), 400
        try:
            user = invites.accept_invite(db, token, email=email, password=password)
        except InviteGone:
            return render_template("dashboard/invite.html", gone=GONE, error=None, email=""), 404
        except UserRefused as exc:
            db.rollback()
            return _form(role, error=f"{str(exc).capitalize()}.", email=email), 400
        sign_in_as(db, user)
        db.commit()
    return redirect(url_for("dashboard.index"))


def _form(role: str, *, error: str | None, email: str) -> str:
    return render_template(
        "dashboard/invite.html",
        gone=None,
        role=role,
        error=error,
        email=email,
        min_chars=MIN_PASSWORD_CHARS,
    )
