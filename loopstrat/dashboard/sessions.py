"""Who is signed in: a signed, expiring Flask session cookie naming the user and the
session_version it was signed with, so a password change ends every other session.

A sign-in lasts SESSION_HOURS from the moment it was made, however busy: Flask renews a
permanent cookie on every request, so the sign-in time travels inside it and is checked."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g, session

from loopstrat import runtime
from loopstrat.models import User

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


def sign_in_as(user: User) -> None:
    session.clear()  # a fresh session on sign-in: nothing carried over from before (fixation)
    session.permanent = True  # expires after SESSION_HOURS (PERMANENT_SESSION_LIFETIME)
    session["uid"] = user.id
    session["sv"] = user.session_version
    session["at"] = int(time.time())


def sign_out() -> None:
    session.clear()


def load_signed_in_user() -> SignedIn | None:
    """The user this request's cookie names, still valid; also kept as g.user."""
    uid, version, at = session.get("uid"), session.get("sv"), session.get("at")
    if not isinstance(uid, int) or not isinstance(at, int):
        return None
    if time.time() - at > runtime.current().settings.session_hours * 3600:
        session.clear()
        return None
    with runtime.current().sessions() as db:
        user = db.get(User, uid)
        if user is None or user.session_version != version:
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
