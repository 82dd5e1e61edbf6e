"""Sign-in limits, roles, invite links, session expiry and password change."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from loopstrat.dashboard.invites import INVITE_HOURS
from loopstrat.models import AuditLog, Invite, User
from tests.conftest import make_account
from tests.dashboard_helpers import PASSWORD, csrf_token, make_user, sign_in, signed_in_client

NEW_PASSWORD = "a brand new long password"  # noqa: S105 - a test user's


def test_sign_in_is_limited_per_email(client, rt, account):
    user = make_user(rt, account)
    limit = rt.settings.sign_in_rate_per_email_per_min
    for _ in range(limit):
        assert sign_in(client, user.email, "wrong guess").status_code == 401
    refused = sign_in(client, user.email, PASSWORD)  # even the right password, until it passes
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) in range(1, 61)
    assert "Too many sign-in attempts" in refused.get_data(as_text=True)
    other = make_user(rt, account, email="second@example.com")
    assert sign_in(client, other.email).status_code == 302  # another email is not held up


def test_sign_in_is_limited_per_address(client, rt, reconfigure, account):
    reconfigure(sign_in_rate_per_ip_per_min=3)
    make_user(rt, account)
    for n in range(3):
        assert sign_in(client, f"guess{n}@example.com").status_code == 401
    assert sign_in(client, "owner@example.com").status_code == 429


def test_a_session_expires(client, rt, account, clock):
    signed_in_client(client, make_user(rt, account))
    clock.shift(timedelta(hours=rt.settings.session_hours - 0.1))
    assert client.get("/dashboard/").status_code == 200
    clock.shift(timedelta(hours=0.2))
    assert client.get("/dashboard/").status_code == 302


def test_members_do_not_see_the_team_page(client, rt, account):
    signed_in_client(client, make_user(rt, account, role="member"))
    page = client.get("/dashboard/team")
    assert page.status_code == 404
    assert "Back to the leads" in page.get_data(as_text=True)  # the menu, not a bare error
    token = csrf_token(client, "/dashboard/")
    made = client.post("/dashboard/team/invites", data={"csrf_token": token, "role": "admin"})
    assert made.status_code == 404
    with rt.sessions() as db:
        assert db.scalar(select(Invite)) is None


def _invite_link(client, role="member"):
    token = csrf_token(client, "/dashboard/team")
    made = client.post("/dashboard/team/invites", data={"csrf_token": token, "role": role})
    assert made.status_code == 201
    return re.search(
        r'value="https://[^/"]+(/dashboard/invite/[^"]+)"', made.get_data(as_text=True)
    ).group(1)


def _join(client, path, email, password=NEW_PASSWORD, confirm=None):
    token = csrf_token(client, path)
    form = {
        "csrf_token": token,
        "email": email,
        "password": password,
        "confirm": confirm or password,
    }
    return client.post(path, data=form)


def test_an_invite_link_works_once(app, rt, account):
    admin = make_user(rt, account)
    path = _invite_link(signed_in_client(app.test_client(), admin))
    joined = _join(app.test_client(), path, "Staff@Example.com")
    assert joined.status_code == 302
    with rt.sessions() as db:
        staff = db.scalar(select(User).where(User.email == "staff@example.com"))
        assert (staff.account_id, staff.role) == (account.id, "member")
        actions = db.scalars(select(AuditLog.action).where(AuditLog.account_id == account.id)).all()
    assert sorted(actions) == ["invite.accepted", "invite.created"]
    again = app.test_client()
    assert again.get(path).status_code == 404
    assert again.get(path.replace("/invite/", "/invite/x")).status_code == 404  # unknown
    # The used link cannot be replayed with a token fetched from another page.
    token = csrf_token(again)
    form = {
        "csrf_token": token,
        "email": "late@example.com",
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
    }
    assert again.post(path, data=form).status_code == 404
    with rt.sessions() as db:
        assert db.scalar(select(User).where(User.email == "late@example.com")) is None


def test_an_invite_link_expires(app, rt, account, clock):
    admin = make_user(rt, account)
    path = _invite_link(signed_in_client(app.test_client(), admin), role="admin")
    clock.shift(timedelta(hours=INVITE_HOURS, seconds=1))
    joiner = app.test_client()
    page = joiner.get(path)
    assert page.status_code == 404 and "expired or was already used" in page.get_data(as_text=True)


def test_an_invite_refuses_a_short_password_and_keeps_the_link(app, rt, account):
    admin = make_user(rt, account)
    path = _invite_link(signed_in_client(app.test_client(), admin))
    joiner = app.test_client()
    short = _join(joiner, path, "staff@example.com", password="short")
    assert short.status_code == 400 and "at least 12 characters" in short.get_data(as_text=True)
    differ = _join(joiner, path, "staff@example.com", confirm="not the same password")
    assert differ.status_code == 400
    assert _join(joiner, path, "staff@example.com").status_code == 302


def test_an_invite_of_one_account_joins_only_that_account(app, rt, account):
    other = make_account(rt, name="Other Co", twilio_number="+18015550222")
    admin = make_user(rt, other, email="boss@other.example")
    path = _invite_link(signed_in_client(app.test_client(), admin))
    _join(app.test_client(), path, "staff@other.example")
    with rt.sessions() as db:
        assert (
            db.scalar(select(User.account_id).where(User.email == "staff@other.example"))
            == other.id
        )


def test_a_password_change_signs_out_other_devices(app, rt, reconfigure, account):
    reconfigure(sign_in_rate_per_email_per_min=20)  # the password page's guesses count too
    user = make_user(rt, account)
    here, elsewhere = (
        signed_in_client(app.test_client(), user),
        signed_in_client(app.test_client(), user),
    )
    token = csrf_token(here, "/dashboard/account/password")
    wrong = {
        "csrf_token": token,
        "current_password": "nope",
        "new_password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
    }
    assert here.post("/dashboard/account/password", data=wrong).status_code == 400
    right = dict(wrong, current_password=PASSWORD)
    assert here.post("/dashboard/account/password", data=right).status_code == 302
    assert here.get("/dashboard/").status_code == 200
    assert elsewhere.get("/dashboard/").status_code == 302
    assert sign_in(app.test_client(), user.email, NEW_PASSWORD).status_code == 302
    assert sign_in(app.test_client(), user.email, PASSWORD).status_code == 401
    with rt.sessions() as db:
        row = db.scalar(select(AuditLog).where(AuditLog.action == "password.changed"))
        assert (row.actor, row.detail) == (user.email, {})
