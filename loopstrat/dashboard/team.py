"""The team (admins only): who can sign in to the account, and invite links for staff."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from loopstrat import runtime
from loopstrat.clock import utcnow
from loopstrat.dashboard import bp
from loopstrat.dashboard.audit import record
from loopstrat.dashboard.invites import INVITE_HOURS, create_invite, revoke_invite
from loopstrat.dashboard.sessions import admin_required, current_user
from loopstrat.dashboard.users import UserRefused, remove_user
from loopstrat.models import Invite, User


@bp.get("/team")
@admin_required
def team() -> str:
    return _team_page(link=None, error=None)


@bp.post("/team/invites")
@admin_required
def invite() -> tuple[str, int]:
    me = current_user()
    role = request.form.get("role", "member")
    with runtime.current().sessions() as db:
        try:
            token = create_invite(db, account_id=me.account_id, created_by=me.id, role=role)
        except UserRefused as exc:
            return _team_page(link=None, error=str(exc)), 400
        record(
            db,
            account_id=me.account_id,
            actor=me.email,
            action="invite.created",
            detail={"role": role},
        )
        db.commit()
    # Shown on this page only, never stored in clear: the admin copies it now or makes another.
    # Built from PUBLIC_BASE_URL, never the request's Host header, which its sender chooses.
    path = url_for("dashboard.accept_invite", token=token)
    link = runtime.current().settings.public_base_url.rstrip("/") + path
    return _team_page(link=link, error=None), 201


@bp.post("/team/users/<int:user_id>/remove")
@admin_required
def remove_member(user_id: int) -> Response | tuple[str, int]:
    me = current_user()
    with runtime.current().sessions() as db:
        try:
            gone = remove_user(
                db, account_id=me.account_id, user_id=user_id, by=db.get_one(User, me.id)
            )
        except UserRefused as exc:
            return _team_page(link=None, error=f"{str(exc).capitalize()}."), 400
        if gone is None:
            abort(404)
        record(db, account_id=me.account_id, actor=me.email, action="user.removed",
               detail={"user_id": gone.id, "role": gone.role})  # fmt: skip
        db.commit()
    flash("Removed. They are signed out everywhere and cannot sign in again.")
    return redirect(url_for("dashboard.team"))


@bp.post("/team/invites/<int:invite_id>/revoke")
@admin_required
def revoke(invite_id: int) -> Response:
    me = current_user()
    with runtime.current().sessions() as db:
        if revoke_invite(db, account_id=me.account_id, invite_id=invite_id) is None:
            abort(404)
        record(db, account_id=me.account_id, actor=me.email, action="invite.revoked",
               detail={"invite_id": invite_id})  # fmt: skip
        db.commit()
    flash("Invite link revoked: it no longer works.")
    return redirect(url_for("dashboard.team"))


def _team_page(*, link: str | None, error: str | None) -> str:
    account_id = current_user().account_id
    with runtime.current().sessions() as db:
        users = db.scalars(
            select(User)
            .where(User.account_id == account_id, User.removed_at.is_(None))
            .order_by(User.created_at, User.id)
        ).all()
        invites = db.scalars(
            select(Invite)
            .where(
                Invite.account_id == account_id,
                Invite.used_at.is_(None),
                Invite.expires_at > utcnow(),
            )
            .order_by(Invite.created_at.desc())
        ).all()
        return render_template(
            "dashboard/team.html",
            user=current_user(),
            users=users,
            invites=invites,
            link=link,
            error=error,
            invite_hours=INVITE_HOURS,
        )
