"""Settings (admins only): each section saves, bad input changes nothing and says why, every
change leaves an audit row, and the Airtable token is never shown back."""

from __future__ import annotations

import html

from sqlalchemy import select

from loopstrat.crm.connection import decrypt_token
from loopstrat.models import Account, AuditLog, Outbox
from tests.airtable_api import BASE_ID, TOKEN
from tests.dashboard_helpers import csrf_token, make_user, signed_in_client

PROFILE = {
    "name": "Acme Plumbing & Drains", "trade": "plumbing", "service_zips": "84101, 84103",
    "business_hours": "Mon-Sat 7am-7pm", "tone": "warm and brief", "never_promise": "prices",
}  # fmt: skip
CONVERSATIONS = {
    "ai_mode": "assist", "ai_quiet_spell_s": "30", "handoff_window_s": "900",
    "alert_phone": "(801) 555-0188", "alert_dnd_start": "21:30", "alert_dnd_end": "07:00",
    "owner_name": "Mike", "thank_you_url": "https://acmeplumbing.com/thanks",
}  # fmt: skip


def _admin(app, rt, account, role="admin"):
    return signed_in_client(app.test_client(), make_user(rt, account, role=role))


def _post(client, path, form):
    return client.post(path, data={"csrf_token": csrf_token(client), **form})


def _account(db, account):
    db.expire_all()
    return db.get(Account, account.id)


def test_the_profile_and_conversations_save_with_an_audit_row(app, rt, account, db):
    admin = _admin(app, rt, account)
    assert _post(admin, "/dashboard/settings/profile", PROFILE).status_code == 302
    assert _post(admin, "/dashboard/settings/conversations", CONVERSATIONS).status_code == 302
    saved = _account(db, account)
    assert (saved.name, saved.service_zips, saved.tone) == (
        "Acme Plumbing & Drains",
        "84101,84103",
        "warm and brief",
    )
    assert (saved.ai_mode, saved.ai_quiet_spell_s, saved.handoff_window_s) == ("assist", 30, 900)
    assert (saved.alert_phone, saved.alert_dnd_start, saved.alert_dnd_end) == (
        "+18015550188",
        "21:30",
        "07:00",
    )
    page = admin.get("/dashboard/settings").get_data(as_text=True)
    assert 'value="Acme Plumbing &amp; Drains"' in page
    assert "Saved: AI mode, AI quiet spell, hand-off window, alert phone" in page
    rows = db.scalars(
        select(AuditLog).where(AuditLog.account_id == account.id).order_by(AuditLog.id)
    ).all()
    assert [(r.actor, r.action) for r in rows] == [
        ("owner@example.com", "settings.profile"),
        ("owner@example.com", "settings.conversations"),
    ]
    assert rows[0].detail["changed"]["service_zips"] == "84101,84103"
    assert "trade" not in rows[0].detail["changed"]  # unchanged fields are not claimed as changes
    assert rows[0].created_at is not None


def test_bad_input_changes_nothing_and_says_why(app, rt, account, db):
    admin = _admin(app, rt, account)
    before = _account(db, account).name
    bad = {**PROFILE, "service_zips": "84101, 8410", "name": ""}
    answer = _post(admin, "/dashboard/settings/profile", bad)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert (
        "Service ZIP codes: not 5-digit ZIP codes: 8410" in page
        and "ZIP codes: ZIP codes" not in page  # the field is named once
        and "Business name: must not be empty" in page
    )
    assert _account(db, account).name == before
    worse = {**CONVERSATIONS, "ai_mode": "yolo", "alert_phone": "999", "alert_dnd_start": "25:00",
             "thank_you_url": "javascript:alert(1)", "ai_quiet_spell_s": "-3"}  # fmt: skip
    page = _post(admin, "/dashboard/settings/conversations", worse).get_data(as_text=True)
    expected = (
        "choose one of off, assist, auto",
        "not a valid North American phone number",
        "a time like 21:30",
        "a web address starting with https:// or http://",
        "from 1 to 600",
    )
    for message in expected:
        assert message in page, message
    assert _account(db, account).ai_mode == "off"
    half = _post(admin, "/dashboard/settings/conversations", {**CONVERSATIONS, "alert_dnd_end": ""})
    assert half.status_code == 400 and "give both a start and an end" in half.get_data(as_text=True)
    assert db.scalar(select(AuditLog.id)) is None


def test_members_never_see_settings(app, rt, account):
    member = _admin(app, rt, account, role="member")
    assert member.get("/dashboard/settings").status_code == 404
    assert _post(member, "/dashboard/settings/profile", PROFILE).status_code == 404
    assert _post(member, "/dashboard/settings/airtable/sync", {}).status_code == 404
    assert "Settings</a>" not in member.get("/dashboard/").get_data(as_text=True)


def test_a_change_without_the_csrf_token_is_refused(app, rt, account, db):
    admin = _admin(app, rt, account)
    assert admin.post("/dashboard/settings/profile", data=PROFILE).status_code == 400
    assert _account(db, account).name == "Acme Plumbing"


def test_airtable_connects_and_the_token_is_never_shown(app, rt, account, airtable, db):
    admin = _admin(app, rt, account)
    wrong = _post(
        admin, "/dashboard/settings/airtable", {"base_id": BASE_ID, "token": "patWrong.123456789"}
    )
    assert wrong.status_code == 400 and "AUTHENTICATION_REQUIRED" in wrong.get_data(as_text=True)
    assert "patWrong" not in wrong.get_data(as_text=True)
    assert _account(db, account).airtable_token_encrypted is None
    assert (
        _post(
            admin, "/dashboard/settings/airtable", {"base_id": BASE_ID, "token": TOKEN}
        ).status_code
        == 302
    )
    saved = _account(db, account)
    assert decrypt_token(rt.settings, saved.airtable_token_encrypted) == TOKEN
    page = admin.get("/dashboard/settings").get_data(as_text=True)
    assert TOKEN not in page and TOKEN[-6:] not in page and "a token is set" in page
    audit = db.scalar(select(AuditLog).where(AuditLog.action == "settings.airtable"))
    assert TOKEN not in str(audit.detail) and audit.detail["token"] == "replaced"

    db.execute(Outbox.__table__.update().values(state="done"))
    db.commit()
    assert _post(admin, "/dashboard/settings/airtable/sync", {}).status_code == 302
    assert db.scalar(select(Outbox.state).where(Outbox.kind == "crm_sync")) == "pending"
    _post(admin, "/dashboard/settings/airtable/disconnect", {})
    assert _account(db, account).airtable_token_encrypted is None


def test_the_form_snippet_and_its_preview(app, rt, account):
    page = _admin(app, rt, account).get("/dashboard/settings").get_data(as_text=True)
    assert f"https://hooks.loopstrat.test/leads/{account.form_key}" in page
    snippet = html.unescape(page.split('id="snippet"')[1].split("</textarea>")[0])
    assert (
        "hp_website" in snippet
        and 'name="consent"' in snippet
        and account.consent_text[:40] in snippet
    )
    preview = page.split('id="form-preview"')[1]
    assert "<fieldset disabled>" in preview and 'class="hp"' in preview and "style=" not in preview
