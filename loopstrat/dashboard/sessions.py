"""Who is signed in: a sign-in kept on the server (its row names the user), and a signed,
expiring Flask session cookie carrying the sign-in's token. A copy of the cookie works only
while the row is open: sign-out, a password change and removing the user end it at once.

A sign-in lasts SESSION_HOURS from the moment it was made, however busy: Flask renews a
permanent cookie on every request, so the sign-in time travels inside it and is checked."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g, session
from sqlalchemy import select
from sqlalchemy.orm import Session

from loopstrat import runtime
from loopstrat.dashboard.invites import token_hash as _digest  # the same SHA-256 of a token
from loopstrat.dashboard.users import end_sign_in, end_sign_ins
from loopstrat.models import SignIn, User

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class SignedIn:
    """The signed-in user as views need them; never a live ORM row outside its session."""

    id: int
    account_id: int
    email: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def sign_in_as(db: Session, user: User) -> None:
    """Open a sign-in for this browser, in the caller's transaction; the caller commits."""
    token = secrets.token_urlsafe(32)
    db.add(SignIn(account_id=user.account_id, user_id=user.id, token_hash=_digest(token)))
    session.clear()  # a fresh session on sign-in: nothing carried over from before (fixation)
    session.permanent = True  # expires after SESSION_HOURS (PERMANENT_SESSION_LIFETIME)
    session["sid"] = token
    session["at"] = int(time.time())


def sign_out() -> None:
    """End this browser's sign-in on the server, then forget the cookie."""
    token = session.get("sid")
    session.clear()
    if isinstance(token, str):
        with runtime.current().sessions() as db:
            end_sign_in(db, _digest(token))
            db.commit()


def end_other_sign_ins(db: Session, user_id: int) -> None:
    """End every sign-in of the user but this browser's; the caller commits."""
    token = session.get("sid")
    keep = _digest(token) if isinstance(token, str) else None
    end_sign_ins(db, user_id, except_token_hash=keep)


def load_signed_in_user() -> SignedIn | None:
    """The user this request's cookie names, still valid; also kept as g.user."""
    token, at = session.get("sid"), session.get("at")
    if not isinstance(token, str) or not isinstance(at, int):
        return None  # never signed in here: keep the session's CSRF token for the sign-in form
    if time.time() - at > runtime.current().settings.session_hours * 3600:
        session.clear()
        return None
    with runtime.current().sessions() as db:
        user = db.scalar(
            select(User)
            .join(SignIn, SignIn.user_id == User.id)
            .where(
                SignIn.token_hash == _digest(token),
                SignIn.ended_at.is_(None),
                User.removed_at.is_(None),
            )
        )
        if user is None:
            session.clear()
            return None
        g.user = SignedIn(user.id, user.account_id, user.email, user.role)
    return g.user  # type: ignore[no-any-return]


def current_user() -> SignedIn:
    user: SignedIn = g.user
    return user


def admin_required(view: F) -> F:
    """Only admins see billing and settings; to a member such a page does not exist."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user().is_admin:
            abort(404)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
