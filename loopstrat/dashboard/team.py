"""The team (admins only): who can sign in to the account, and invite links for staff."""

from __future__ import annotations

from flask import render_template, request, url_for
from sqlalchemy import select

from loopstrat import runtime
from loopstrat.clock import utcnow
from loopstrat.dashboard import bp
from loopstrat.dashboard.audit import record
from loopstrat.dashboard.invites import INVITE_HOURS, create_invite
from loopstrat.dashboard.sessions import admin_required, current_user
from loopstrat.dashboard.users import UserRefused
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
    link = url_for("dashboard.accept_invite", token=token, _external=True)
    return _team_page(link=link, error=None), 201


def _team_page(*, link: str | None, error: str | None) -> str:
    account_id = current_user().account_id
    with runtime.current().sessions() as db:
        users = db.scalars(
            select(User).where(User.account_id == account_id).order_by(User.created_at, User.id)
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
