"""The findings of an attack on a running instance, each sent as the attacker sent it: through
the HTTP interface (or the command line), and each failing on the code before its fix."""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import socket
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
import time_machine
from cryptography.fernet import Fernet
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from loopstrat.api_keys import new_api_key
from loopstrat.app import create_app
from loopstrat.dashboard.invites import create_invite
from loopstrat.drafting.drafter import draft_first_reply
from loopstrat.drafting.profile import BusinessProfile, Inquiry
from loopstrat.leads.intake import INQUIRY_CUT, INQUIRY_MAX_CHARS
from loopstrat.logs import mask_personal
from loopstrat.models import Account, AuditLog, Invite, Lead
from loopstrat.texts.checks import draft_problems
from tests.dashboard_helpers import PASSWORD, csrf_token, make_user, sign_in, signed_in_client
from tests.leads_helpers import LEAD, post_lead
from tests.test_review_requests import REVIEW_PAGE, job_done, link_token, review_texts
from tests.waiting import until

ROOT = Path(__file__).resolve().parent.parent

PHISHING = {
    "name": "evil.example/pay",
    "service": "unpaid invoice: pay at evil.example/pay",
    "phone": "(801) 555-0177",
    "consent": True,
}


# --- 1. a stranger's words and links in the business's first text ------------------------


def test_a_strangers_link_never_reaches_the_template_first_reply(
    client, account, twilio, worker, clock
):
    assert post_lead(client, account, PHISHING).status_code == 202
    worker()
    (sent,) = twilio.sent
    assert "evil" not in sent["Body"] and "invoice" not in sent["Body"]
    assert sent["Body"].startswith("Acme Plumbing: Hi there, thanks for your request.")


def test_nor_a_claude_draft_that_repeats_it(client, account, reconfigure, claude, twilio, worker):
    claude.reply("Acme Plumbing: Hi! Please settle at evil.example/pay. Reply STOP to opt out.")
    assert post_lead(client, account, PHISHING).status_code == 202
    worker()
    (sent,) = twilio.sent
    assert "evil" not in sent["Body"] and sent["Body"].startswith("Acme Plumbing: Hi there,")


def test_a_phone_number_other_than_the_business_is_refused_in_any_text():
    profile = BusinessProfile("Acme", "plumbing", (), "", "", "", "acme.com", "+18015550111")
    assert "foreign_phone" in draft_problems("Acme: call (801) 555-0177 now", profile)
    assert draft_problems("Acme: or call us at (801) 555-0111. Reply STOP", profile) == []


PROFILE = BusinessProfile("Acme Plumbing", "plumbing", (), "", "", "", "acme.com", "+18015550111")


@settings(max_examples=300, deadline=None)
@given(name=st.text(max_size=60), service=st.text(max_size=80))
def test_whatever_a_visitor_types_the_template_reply_passes_every_check(name, service):
    draft = draft_first_reply(None, PROFILE, Inquiry(name or None, service or None, "", None))
    assert draft_problems(draft.body, PROFILE) == []
    first = draft.body.split("Hi ", 1)[1].split(",", 1)[0]
    assert first == "there" or re.fullmatch(r"[^\W\d_][\w'’-]{0,19}", first)


# --- 2. access that can be taken away -----------------------------------------------------


def cookie_of(client) -> str:
    return client.get_cookie("session").value


def with_cookie(app, value: str):
    stolen = app.test_client()
    stolen.set_cookie("session", value)
    return stolen


def test_signing_out_ends_the_session_on_the_server_so_a_copied_cookie_stops_working(
    app, rt, account
):
    user = make_user(rt, account)
    browser = signed_in_client(app.test_client(), user)
    copied = cookie_of(browser)
    assert with_cookie(app, copied).get("/dashboard/").status_code == 200
    token = csrf_token(browser, "/dashboard/")
    assert browser.post("/dashboard/sign-out", data={"csrf_token": token}).status_code == 302
    answer = with_cookie(app, copied).get("/dashboard/")
    assert answer.status_code == 302 and "/dashboard/sign-in" in answer.headers["Location"]


def test_an_admin_removes_a_member_whose_sessions_end_at_once_and_who_cannot_sign_in(
    app, rt, account, db
):
    admin = signed_in_client(app.test_client(), make_user(rt, account))
    staff = make_user(rt, account, email="staff@example.com", role="member")
    theirs = signed_in_client(app.test_client(), staff)
    refused = admin.post(f"/dashboard/team/users/{staff.id}/remove")  # no CSRF token
    assert refused.status_code == 400
    assert theirs.get("/dashboard/").status_code == 200
    token = csrf_token(admin, "/dashboard/team")
    assert f"/dashboard/team/users/{staff.id}/remove" in admin.get("/dashboard/team").text
    done = admin.post(f"/dashboard/team/users/{staff.id}/remove", data={"csrf_token": token})
    assert done.status_code == 302
    assert theirs.get("/dashboard/").status_code == 302  # signed out, at once
    assert sign_in(app.test_client(), staff.email).status_code == 401
    assert "staff@example.com" not in admin.get("/dashboard/team").text
    actions = db.scalars(select(AuditLog.action).where(AuditLog.account_id == account.id)).all()
    assert "user.removed" in actions


def test_an_admin_cannot_remove_themselves(app, rt, account):
    me = make_user(rt, account)
    admin = signed_in_client(app.test_client(), me)
    token = csrf_token(admin, "/dashboard/team")
    answer = admin.post(f"/dashboard/team/users/{me.id}/remove", data={"csrf_token": token})
    assert answer.status_code == 400 and "cannot remove yourself" in answer.text
    assert admin.get("/dashboard/").status_code == 200


def test_a_revoked_invite_link_no_longer_works(app, rt, account, db):
    me = make_user(rt, account)
    admin = signed_in_client(app.test_client(), me)
    token = csrf_token(admin, "/dashboard/team")
    made = admin.post("/dashboard/team/invites", data={"csrf_token": token, "role": "admin"})
    path = re.search(r'value="https://[^/"]+(/dashboard/invite/[^"]+)"', made.text).group(1)
    assert app.test_client().get(path).status_code == 200
    (invite_id,) = db.scalars(select(Invite.id)).all()
    revoke = f"/dashboard/team/invites/{invite_id}/revoke"
    assert admin.post(revoke, data={"csrf_token": token}).status_code == 302
    assert app.test_client().get(path).status_code == 404
    actions = db.scalars(select(AuditLog.action).where(AuditLog.account_id == account.id)).all()
    assert "invite.revoked" in actions


def test_someone_removed_and_invited_back_signs_in_again(app, rt, account, db):
    me = make_user(rt, account)
    staff = make_user(rt, account, email="staff@example.com", role="member")
    admin = signed_in_client(app.test_client(), me)
    token = csrf_token(admin, "/dashboard/team")
    admin.post(f"/dashboard/team/users/{staff.id}/remove", data={"csrf_token": token})
    invite = create_invite(db, account_id=account.id, created_by=me.id, role="member")
    db.commit()
    joining = app.test_client()
    join_token = csrf_token(joining, f"/dashboard/invite/{invite}")
    form = {"csrf_token": join_token, "email": staff.email, "password": "a new long password",
            "confirm": "a new long password"}  # fmt: skip
    assert joining.post(f"/dashboard/invite/{invite}", data=form).status_code == 302
    assert joining.get("/dashboard/").status_code == 200


# --- 4. one lead's inquiry cannot grow without bound --------------------------------------


def test_re_posts_cannot_grow_one_inquiry_past_its_cap(client, account, db, clock):
    for n in range(60):
        words = f"post {n} " + "x" * 1990
        assert post_lead(client, account, {**LEAD, "message": words}).status_code == 202
    inquiry = db.scalars(select(Lead.inquiry)).one()
    assert len(inquiry) <= INQUIRY_MAX_CHARS and inquiry.endswith(INQUIRY_CUT)


# --- 5. tokens in the logs ----------------------------------------------------------------


def test_no_invite_or_review_token_is_logged(
    rt, client, account, db, twilio, worker, clock, caplog, tmp_path
):
    """An invite accepted and a review link clicked, through the Procfile's web process (whose
    access log writes every path, and every Referer) and this one: no line holds a token."""
    caplog.set_level(logging.DEBUG)
    me = make_user(rt, account)
    invite = create_invite(db, account_id=account.id, created_by=me.id, role="member")
    # gunicorn runs on the machine's clock, not this test's: the link must be open by that one.
    real_now = datetime.fromtimestamp(time_machine.escape_hatch.time.time(), UTC)
    db.scalars(select(Invite)).one().expires_at = real_now + timedelta(hours=1)
    db.get_one(Account, account.id).review_link = REVIEW_PAGE
    db.commit()
    job_done(rt, client, account, worker)
    clock.shift(86400)
    worker()
    review = link_token(review_texts(twilio)[0])
    with Gunicorn(rt, tmp_path) as web:
        page, cookie = web.get(f"/dashboard/invite/{invite}")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        form = {"csrf_token": token, "email": "new@example.com", "password": PASSWORD,
                "confirm": PASSWORD}  # fmt: skip
        assert web.post(f"/dashboard/invite/{invite}", form, cookie) == 302
        web.get("/dashboard/", referer=f"/dashboard/invite/{invite}")
        web.get(f"/r/{review}")
    written = web.log.read_text()
    assert "GET /r/***" in written and "POST /dashboard/invite/***" in written  # it logs paths
    lines = [*written.splitlines(), *(logging.Formatter().format(r) for r in caplog.records)]
    for secret in (invite, review):
        assert not [line for line in lines if secret in line]


class Gunicorn:
    """`web` from the Procfile, on a spare port, with its access log in a file."""

    def __init__(self, rt, folder: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.env = {**os.environ, "DATABASE_URL": rt.settings.database_url,
                    "REDIS_URL": rt.settings.redis_url, "SECRET_KEY": rt.settings.secret_key,
                    "PUBLIC_BASE_URL": rt.settings.public_base_url, "LOOPSTRAT_ENV": "test",
                    "PYTHONPATH": str(ROOT)}  # fmt: skip
        self.log = folder / "web.log"
        self.folder = folder

    def __enter__(self) -> Gunicorn:
        gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
        command = [gunicorn, "--config", "python:loopstrat.gunicorn_conf",
                   "--bind", f"127.0.0.1:{self.port}", "loopstrat.wsgi:app"]  # fmt: skip
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(  # noqa: S603 - our own virtualenv's gunicorn
                command, env=self.env, cwd=self.folder, stdout=out, stderr=out
            )
        until(lambda: self._status("GET", "/healthz"), 30, "gunicorn to answer")
        return self

    def __exit__(self, *_exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)

    def get(self, path: str, *, referer: str = "") -> tuple[str, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Referer": f"http://127.0.0.1:{self.port}{referer}"} if referer else {}
        conn.request("GET", path, headers=headers)
        answer = conn.getresponse()
        body, cookie = answer.read().decode(), answer.getheader("Set-Cookie", "")
        conn.close()
        return body, cookie.split(";", 1)[0]

    def post(self, path: str, form: dict[str, str], cookie: str) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie,
                   "Referer": f"http://127.0.0.1:{self.port}{path}"}  # fmt: skip
        conn.request("POST", path, body=urlencode(form), headers=headers)
        status = conn.getresponse().status
        conn.close()
        return status

    def _status(self, method: str, path: str) -> int:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            conn.request(method, path)
            status = conn.getresponse().status
            conn.close()
            return status
        except OSError:
            return 0


# --- 6. absolute links from PUBLIC_BASE_URL, never the Host header ------------------------


def test_the_invite_link_is_built_from_the_public_base_url_whatever_host_is_sent(rt, account):
    behind_a_proxy = create_app(replace(rt.settings, trusted_proxy_hops=1))
    admin = signed_in_client(behind_a_proxy.test_client(), make_user(rt, account))
    token = csrf_token(admin, "/dashboard/team")
    made = admin.post(
        "/dashboard/team/invites",
        data={"csrf_token": token, "role": "admin"},
        headers={"X-Forwarded-Host": "evil.example"},
    )
    assert made.status_code == 201, made.text
    link = re.search(r'value="([^"]+/dashboard/invite/[^"]+)"', made.text).group(1)
    assert link.startswith(rt.settings.public_base_url.rstrip("/") + "/dashboard/invite/")


# --- 7. deeply nested JSON ----------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "[" * 50_000,
        '{"name": ' + "[" * 50_000,
        json.dumps(LEAD)[:-1] + ', "service": ' + "[" * 900 + "]" * 900 + "}",
    ],
)
def test_deeply_nested_json_answers_400_and_stores_nothing(client, account, db, body):
    answer = client.post(f"/leads/{account.form_key}", data=body, content_type="application/json")
    assert answer.status_code == 400
    assert db.scalar(select(func.count()).select_from(Lead)) == 0


def test_the_jobs_api_answers_400_to_deeply_nested_json(client, account, rt):
    with rt.sessions() as session:
        key = new_api_key(session.get_one(Account, account.id))
        session.commit()
    answer = client.post(
        "/api/jobs/done",
        data="[" * 50_000,
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert answer.status_code == 400


# --- 8. URL settings with control characters ----------------------------------------------


@pytest.mark.parametrize(
    "url", ["https://acme.example/thanks\r\nSet-Cookie: a=b", "https://acme.example/ thanks"]
)
def test_a_url_setting_with_whitespace_or_control_characters_is_refused_on_the_page(
    app, rt, account, db, url
):
    admin = signed_in_client(app.test_client(), make_user(rt, account))
    token = csrf_token(admin, "/dashboard/settings")
    form = {"csrf_token": token, "ai_mode": "off", "ai_quiet_spell_s": "30",
            "handoff_window_s": "900", "alert_phone": "", "alert_dnd_start": "",
            "alert_dnd_end": "", "owner_name": "", "thank_you_url": url}  # fmt: skip
    answer = admin.post("/dashboard/settings/conversations", data=form)
    assert answer.status_code == 400 and "no spaces or control characters" in answer.text
    db.expire_all()
    assert db.get(Account, account.id).thank_you_url is None


def test_and_on_the_command_line(cli, account):
    said = cli("review-settings", "--account", str(account.id), "--link", "https://a.example/\tx")
    assert said.exit_code != 0 and "no spaces or control characters" in said.output
    made = cli(
        "create-account",
        "--name",
        "X",
        "--trade",
        "plumbing",
        "--timezone",
        "America/Denver",
        "--twilio-number",
        "+18015550333",
        "--website",
        "x.example\r\n",
    )
    assert made.exit_code != 0 and "--website" in made.output  # fmt: skip


# --- 9. the current-password check is rate-limited ----------------------------------------


def test_guessing_the_current_password_is_limited_like_signing_in(app, rt, account, clock):
    # clock: the limiter counts per minute; from DAYTIME's first second none ends mid-test.
    holder = signed_in_client(app.test_client(), make_user(rt, account))  # a stolen cookie
    token = csrf_token(holder, "/dashboard/account/password")
    guess = {"csrf_token": token, "new_password": "x" * 20, "confirm": "x" * 20}
    statuses = [
        holder.post(
            "/dashboard/account/password", data={**guess, "current_password": f"g{n}"}
        ).status_code
        for n in range(rt.settings.sign_in_rate_per_email_per_min + 2)
    ]
    assert statuses[0] == 400 and statuses[-1] == 429


# --- 10. headers --------------------------------------------------------------------------


def test_dashboard_pages_csv_and_charts_are_never_cached(app, rt, account):
    admin = signed_in_client(app.test_client(), make_user(rt, account))
    for path in ("/dashboard/", "/dashboard/roi", "/dashboard/roi.csv", "/dashboard/roi/speed.svg"):
        answer = admin.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["Cache-Control"] == "no-store", path
    with admin.get("/dashboard/static/app.css") as asset:  # a static file's stream closes with it
        assert "no-store" not in asset.headers.get("Cache-Control", "")


def test_production_answers_with_strict_transport_security(rt):
    production = replace(
        rt.settings,
        env="production",
        secret_key="s" * 48,
        encryption_key=Fernet.generate_key().decode(),
    )
    answer = create_app(production).test_client().get("/healthz")
    assert "max-age=" in answer.headers["Strict-Transport-Security"]
    assert (
        "Strict-Transport-Security"
        not in create_app(rt.settings).test_client().get("/healthz").headers
    )


# --- from a second attack, after the fixes above ------------------------------------------


@pytest.mark.parametrize(
    ("name", "service"),
    [("⑧⓪①⑤⑤⑤⓪①④②", None), ("Bob", "call ⑧⓪①-⑤⑤⑤-⓪①④②"), ("evilꞏcom", "pay at evilꓸcom")],
)
def test_look_alike_digits_and_dots_never_reach_a_text(
    client, account, twilio, worker, clock, name, service
):
    lead = {**LEAD, "name": name, "service": service or "", "phone": "801-555-0177"}
    assert post_lead(client, account, lead).status_code == 202
    worker()
    (sent,) = twilio.sent
    assert "⓪" not in sent["Body"] and "evil" not in sent["Body"]
    assert "thanks for your request." in sent["Body"]  # the service left out


@pytest.mark.parametrize(
    "phone", ["+1 876 555 0142", "+1 268 464 1234", "+1 800 555 0199", "+1 900 555 0199"]
)
def test_numbers_outside_the_us_and_canada_or_toll_free_and_premium_are_refused(
    client, account, db, phone
):
    answer = post_lead(client, account, {**LEAD, "phone": phone})
    assert answer.status_code == 400 and "toll-free" in answer.get_json()["errors"]["phone"]
    assert db.scalar(select(func.count()).select_from(Lead)) == 0


def test_a_next_with_a_line_break_sends_a_good_sign_in_to_the_dashboard(app, rt, account):
    user = make_user(rt, account)
    client = app.test_client()
    token = csrf_token(client)
    answer = client.post(
        "/dashboard/sign-in?next=/dashboard/%0d%0aX:%201",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/dashboard/"


@pytest.mark.parametrize(
    "line",
    [
        "GET /dashboard/%69nvite/TOKEN123secret HTTP/1.1",
        "GET /%64ashboard/invite/TOKEN123secret HTTP/1.1",
        "GET /dashboard//invite/TOKEN123secret HTTP/1.1",
        'GET /x HTTP/1.1" 200 "http://127.0.0.1:5000/dashboard/invite/TOKEN123secret"',
        "GET /dashboard/sign-in?next=%2Fdashboard%2Finvite%2FTOKEN123secret HTTP/1.1",
    ],
)
def test_a_token_path_is_masked_however_it_is_spelled(line):
    assert "TOKEN123secret" not in mask_personal(line)


def test_routings_own_redirect_does_not_echo_the_host_header(client):
    answer = client.get("/dashboard", headers={"Host": "evil.example"})
    assert answer.status_code == 308 and answer.headers["Location"] == "/dashboard/"


def test_an_id_past_what_the_database_holds_is_not_found_not_an_error(app, rt, account):
    admin = signed_in_client(app.test_client(), make_user(rt, account))
    assert admin.get("/dashboard/leads/99999999999999999999999").status_code == 404
    with rt.sessions() as session:
        key = new_api_key(session.get_one(Account, account.id))
        session.commit()
    answer = app.test_client().post(
        "/api/jobs/done",
        json={"lead_id": 99999999999999999999999},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert answer.status_code == 400 and "lead_id" in answer.get_json()["errors"]


def test_the_password_pages_429_says_when_to_try_again(app, rt, account, clock):
    holder = signed_in_client(app.test_client(), make_user(rt, account))
    token = csrf_token(holder, "/dashboard/account/password")
    guess = {"csrf_token": token, "current_password": "nope", "new_password": "x" * 20,
             "confirm": "x" * 20}  # fmt: skip
    for _ in range(rt.settings.sign_in_rate_per_email_per_min + 1):
        answer = holder.post("/dashboard/account/password", data=guess)
    assert answer.status_code == 429 and int(answer.headers["Retry-After"]) > 0
