"""Dashboard users: created for one account with a role; a password is never stored in clear.

Doors: `loopstrat create-user` and an admin's invite link (invites.py); an admin removes one
on the Team page.
"""

from __future__ import annotations

import secrets

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from loopstrat.clock import utcnow
from loopstrat.dashboard.passwords import hash_password
from loopstrat.models import Account, SignIn, User
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
    existing = session.scalar(select(User).where(func.lower(User.email) == email))
    if existing is not None and existing.removed_at is not None:
        if existing.account_id == account_id:  # invited back: the same person, a new start
            existing.role, existing.removed_at = role, None
            existing.password_hash = hash_password(password)
            return existing
    if existing is not None:
        raise UserRefused("a user with that email already exists")
    user = User(
        account_id=account_id, email=email, role=role, password_hash=hash_password(password)
    )
    session.add(user)
    session.flush()
    return user


def remove_user(session: Session, *, account_id: int, user_id: int, by: User) -> User | None:
    """Removed: signs in no more, and every sign-in of theirs ends now. None if the account
    has no such user. Nobody removes themselves (the account would lose its last admin so).
    In the caller's transaction; the caller commits and audits."""
    user = session.scalar(
        select(User).where(
            User.id == user_id, User.account_id == account_id, User.removed_at.is_(None)
        )
    )
    if user is None:
        return None
    if user.id == by.id:
        raise UserRefused("you cannot remove yourself")
    user.removed_at = utcnow()
    end_sign_ins(session, user.id)
    return user


def end_sign_ins(session: Session, user_id: int, *, except_token_hash: str | None = None) -> None:
    """End the user's sign-ins (all, or all but one); the caller commits."""
    ending = update(SignIn).where(SignIn.user_id == user_id, SignIn.ended_at.is_(None))
    if except_token_hash is not None:
        ending = ending.where(SignIn.token_hash != except_token_hash)
    session.execute(ending.values(ended_at=utcnow()))


def end_sign_in(session: Session, token_hash: str) -> None:
    """End one browser's sign-in (signing out); the caller commits."""
    session.execute(
        update(SignIn)
        .where(SignIn.token_hash == token_hash, SignIn.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
