"""Dashboard users: created for one account with a role; a password is never stored in clear.

The command line is the only door for now (`loopstrat create-user`); invites come later.
"""

from __future__ import annotations

import secrets

from sqlalchemy import func, select

from loopstrat.dashboard.passwords import hash_password
from loopstrat.models import Account, User
from loopstrat.runtime import Runtime

ROLES = ("admin", "member")
MIN_PASSWORD_CHARS = 12


class UserRefused(ValueError):
    """Why a user cannot be created, in words for the person at the command line."""


def generated_password() -> str:
    return secrets.token_urlsafe(15)  # 20 characters, 120 bits


def create_user(rt: Runtime, *, account_id: int, email: str, role: str, password: str) -> User:
    email = email.strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@") or " " in email:
        raise UserRefused(f"{email!r} is not an email address")
    if role not in ROLES:
        raise UserRefused(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_CHARS:
        raise UserRefused(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    with rt.sessions() as session:
        if session.get(Account, account_id) is None:
            raise UserRefused(f"no account {account_id}")
        if session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
            raise UserRefused("a user with that email already exists")
        user = User(
            account_id=account_id, email=email, role=role, password_hash=hash_password(password)
        )
        session.add(user)
        session.commit()
        session.refresh(user)
        session.expunge(user)
        return user
