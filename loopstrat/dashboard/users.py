"""Dashboard users: created for one account with a role; a password is never stored in clear.

Doors: `loopstrat create-user` and an admin's invite link (invites.py).
"""

from __future__ import annotations

import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loopstrat.dashboard.passwords import hash_password
from loopstrat.models import Account, User
from loopstrat.runtime import Runtime

ROLES = ("admin", "member")
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 200  # argon2 would hash a megabyte too, slowly: a cheap denial of service


class UserRefused(ValueError):
    """Why a user cannot be created, in words for the person asking."""


def generated_password() -> str:
    return secrets.token_urlsafe(15)  # 20 characters, 120 bits


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise UserRefused(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise UserRefused(f"a password has at most {MAX_PASSWORD_CHARS} characters")


def normal_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@") or " " in email:
        raise UserRefused(f"{email!r} is not an email address")
    return email


def create_user(rt: Runtime, *, account_id: int, email: str, role: str, password: str) -> User:
    with rt.sessions() as session:
        if session.get(Account, account_id) is None:
            raise UserRefused(f"no account {account_id}")
        user = add_user(session, account_id=account_id, email=email, role=role, password=password)
        session.commit()
        session.refresh(user)
        session.expunge(user)
        return user


def add_user(session: Session, *, account_id: int, email: str, role: str, password: str) -> User:
    """In the caller's transaction; the caller commits."""
    email = normal_email(email)
    if role not in ROLES:
        raise UserRefused(f"role must be one of {', '.join(ROLES)}")
    check_password(password)
    if session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise UserRefused("a user with that email already exists")
    user = User(
        account_id=account_id, email=email, role=role, password_hash=hash_password(password)
    )
    session.add(user)
    session.flush()
    return user
