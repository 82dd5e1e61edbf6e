"""Settings (admins only): the business profile the AI drafts from, how conversations run,
the Airtable connection and the form to embed. Each change is checked, then written with an
audit_log row naming who changed which fields."""

from __future__ import annotations

import time
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from loopstrat import runtime
from loopstrat.crm import connection, health, schema
from loopstrat.crm.airtable import AirtableClient, AirtableError, make_api
from loopstrat.crm.pacing import BaseLimiter
from loopstrat.dashboard import bp, settings_forms
from loopstrat.dashboard.audit import record
from loopstrat.dashboard.sessions import admin_required, current_user
from loopstrat.dashboard.settings_forms import FieldErrors
from loopstrat.journal import wake_sync
from loopstrat.models import Account

# A person waits on the page: a pause Airtable asks for longer than this fails the check.
AIRTABLE_CHECK_MAX_SLEEP_S = 2.0


@bp.get("/settings")
@admin_required
def settings() -> str:
    return _page(errors={}, submitted={})


@bp.post("/settings/profile")
@admin_required
def save_profile() -> Response | tuple[str, int]:
    return _save("profile", settings_forms.profile)


@bp.post("/settings/conversations")
@admin_required
def save_conversations() -> Response | tuple[str, int]:
    return _save("conversations", settings_forms.conversations)


@bp.post("/settings/reviews")
@admin_required
def save_reviews() -> Response | tuple[str, int]:
    return _save("reviews", settings_forms.reviews)


def _save(section: str, parse: Any) -> Response | tuple[str, int]:
    try:
        changes = parse(request.form)
    except FieldErrors as exc:
        return _page(errors=exc.errors, submitted=request.form.to_dict()), 400
    me = current_user()
    with runtime.current().sessions() as db:
        account = db.get_one(Account, me.account_id)
        changed = {k: v for k, v in changes.items() if getattr(account, k) != v}
        for name, value in changed.items():
            setattr(account, name, value)
        if changed:
            record(db, account_id=me.account_id, actor=me.email, action=f"settings.{section}",
                   detail={"changed": changed})  # fmt: skip
        db.commit()
    names = ", ".join(settings_forms.LABELS.get(k, k) for k in changed)
    flash(f"Saved: {names or 'nothing had changed'}.")
    return redirect(url_for("dashboard.settings") + f"#{section}")


@bp.post("/settings/airtable")
@admin_required
def connect_airtable() -> Response | tuple[str, int]:
    rt, me = runtime.current(), current_user()
    token, base_id = request.form.get("token", "").strip(), request.form.get("base_id", "").strip()
    with rt.sessions() as db:
        tables = connection.table_names(db.get_one(Account, me.account_id))
    try:
        connection.validate(token, base_id, tables)
        conn = connection.AirtableConnection(me.account_id, base_id, tables, token)
        report = schema.check(_client(rt, conn))
    except (connection.AirtableSettingsError, AirtableError) as exc:
        error = str(exc).replace("--base ", "")
        return _page(errors={"airtable": f"Not connected: {error}."}, submitted={}), 400
    with rt.sessions() as db:
        connection.save(rt.settings, db.get_one(Account, me.account_id), token, base_id, tables)
        wake_sync(db, me.account_id)
        record(db, account_id=me.account_id, actor=me.email, action="settings.airtable",
               detail={"base_id": base_id, "token": "replaced"})  # fmt: skip
        db.commit()
    missing = (
        "" if report.ok else " Some tables or fields are missing: run `loopstrat airtable setup`."
    )
    flash(f"Connected to Airtable base {base_id}.{missing}")
    return redirect(url_for("dashboard.settings") + "#airtable")


@bp.post("/settings/airtable/disconnect")
@admin_required
def disconnect_airtable() -> Response:
    me = current_user()
    with runtime.current().sessions() as db:
        connection.forget(db, db.get_one(Account, me.account_id))
        record(
            db,
            account_id=me.account_id,
            actor=me.email,
            action="settings.airtable",
            detail={"disconnected": True},
        )
        db.commit()
    flash("Airtable disconnected: nothing more is sent to it.")
    return redirect(url_for("dashboard.settings") + "#airtable")


@bp.post("/settings/airtable/sync")
@admin_required
def sync_now() -> Response:
    me = current_user()
    with runtime.current().sessions() as db:
        account = db.get_one(Account, me.account_id)
        if not account.airtable_base_id:
            flash("Connect Airtable first.", "error")
        else:
            wake_sync(db, me.account_id)  # the dispatcher hands it to the crm worker at once
            db.commit()
            flash("Sync started: waiting changes go to Airtable now.")
    return redirect(url_for("dashboard.settings") + "#airtable")


def _client(rt: runtime.Runtime, conn: connection.AirtableConnection) -> AirtableClient:
    api = make_api(rt.settings.airtable_api_url, conn.token)
    return AirtableClient(conn, api, BaseLimiter(rt.redis), time.sleep, AIRTABLE_CHECK_MAX_SLEEP_S)


def _page(*, errors: dict[str, str], submitted: dict[str, str]) -> str:
    rt = runtime.current()
    with rt.sessions() as db:
        account = db.get_one(Account, current_user().account_id)
        values = {c: getattr(account, c) for c in _FIELDS}
        values.update(submitted)
        form_url = f"{rt.settings.public_base_url.rstrip('/')}/leads/{account.form_key}"
        return render_template(
            "dashboard/settings.html",
            user=current_user(),
            v=values,
            errors=errors,
            account=account,
            sync=health.sync_health(db, account.id),
            snippet=render_template(
                "intake/embed.html",
                form_url=form_url,
                consent_text=account.consent_text,
                marketing_consent_text=account.marketing_consent_text,
            ),
            form_url=form_url,
            ai_modes=settings_forms.AI_MODES,
        )


_FIELDS = (
    "name", "trade", "service_zips", "business_hours", "tone", "never_promise", "ai_mode",
    "ai_quiet_spell_s", "handoff_window_s", "alert_phone", "alert_dnd_start", "alert_dnd_end",
    "owner_name", "thank_you_url", "review_link", "review_delay_minutes", "review_cooldown_days",
)  # fmt: skip
