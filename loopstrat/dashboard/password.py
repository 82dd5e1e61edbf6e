"""Changing one's own password: it ends every other signed-in session of the user."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from loopstrat import runtime
from loopstrat.dashboard import bp
from loopstrat.dashboard.audit import record
from loopstrat.dashboard.auth import too_many_attempts
from loopstrat.dashboard.passwords import hash_password, verify_password
from loopstrat.dashboard.sessions import current_user, end_other_sign_ins
from loopstrat.dashboard.users import MIN_PASSWORD_CHARS, UserRefused, check_password
from loopstrat.models import User
from loopstrat.ratelimit import retry_after_s

WRONG_CURRENT = "Your current password is not right."
TOO_MANY = "Too many password attempts. Try again in {seconds} seconds."


@bp.route("/account/password", methods=["GET", "POST"])
def change_password() -> Response | str | tuple[str, int] | tuple[str, int, dict[str, str]]:
    if request.method == "GET":
        return _page(error=None)
    me = current_user()
    new = request.form.get("new_password", "")
    if too_many_attempts(me.email):
        seconds = retry_after_s()
        return _page(error=TOO_MANY.format(seconds=seconds)), 429, {"Retry-After": str(seconds)}
    with runtime.current().sessions() as db:
        user = db.get_one(User, me.id)
        if not verify_password(user.password_hash, request.form.get("current_password", "")):
            return _page(error=WRONG_CURRENT), 400
        if new != request.form.get("confirm", ""):
            return _page(error="The two new passwords differ."), 400
        try:
            check_password(new)
        except UserRefused as exc:
            return _page(error=f"{str(exc).capitalize()}."), 400
        user.password_hash = hash_password(new)
        end_other_sign_ins(db, user.id)  # a stolen cookie stops working
        record(db, account_id=me.account_id, actor=me.email, action="password.changed", detail={})
        db.commit()
    flash("Password changed. Other devices are signed out.")
    return redirect(url_for("dashboard.change_password"))


def _page(*, error: str | None) -> str:
    return render_template(
        "dashboard/password.html", user=current_user(), error=error, min_chars=MIN_PASSWORD_CHARS
    )
