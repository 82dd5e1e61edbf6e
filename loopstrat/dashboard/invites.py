"""Invite links for staff: an admin makes one, it works once and expires in INVITE_HOURS.

Only the token's SHA-256 is stored, so a leaked database gives no working link.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from loopstrat.clock import utcnow
from loopstrat.dashboard.audit import record
from loopstrat.dashboard.users import ROLES, UserRefused, add_user
from loopstrat.models import Invite, User

INVITE_HOURS = 72


class InviteGone(LookupError):
    """The link is unknown, used or expired: all three look the same to its holder."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invite(session: Session, *, account_id: int, created_by: int, role: str) -> str:
    """The token, to be shown once; the caller commits."""
    if role not in ROLES:
        raise UserRefused(f"role must be one of {', '.join(ROLES)}")
    token = secrets.token_urlsafe(32)
    session.add(
        Invite(
            account_id=account_id,
            token_hash=token_hash(token),
            role=role,
            created_by=created_by,
            expires_at=utcnow() + timedelta(hours=INVITE_HOURS),
        )
    )
    return token


def open_invite(session: Session, token: str) -> Invite:
    invite = session.scalar(select(Invite).where(Invite.token_hash == token_hash(token)))
    if invite is None or invite.used_at is not None or invite.expires_at <= utcnow():
        raise InviteGone
    return invite


def accept_invite(session: Session, token: str, *, email: str, password: str) -> User:
    """Claims the invite and creates its user in one transaction: of two people racing on
    one link, one gets the account and the other an InviteGone. The caller commits."""
    invite = open_invite(session, token)
    user = add_user(
        session, account_id=invite.account_id, email=email, role=invite.role, password=password
    )
    now = utcnow()
    claimed = session.execute(
        update(Invite)
        .where(Invite.id == invite.id, Invite.used_at.is_(None), Invite.expires_at > now)
        .values(used_at=now, used_by=user.id)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise InviteGone
    detail = {"user_id": user.id, "role": invite.role, "invite_id": invite.id}
    record(
        session,
        account_id=invite.account_id,
        actor=user.email,
        action="invite.accepted",
        detail=detail,
    )
    return user


def revoke_invite(session: Session, *, account_id: int, invite_id: int) -> Invite | None:
    """The link stops working now; None if the account has no such open invite. The caller
    commits and audits."""
    now = utcnow()
    invite = session.scalar(
        select(Invite).where(
            Invite.id == invite_id,
            Invite.account_id == account_id,
            Invite.used_at.is_(None),
            Invite.expires_at > now,
        )
    )
    if invite is not None:
        invite.expires_at = now
    return invite
