"""POST /leads/<form_key>: a web form, Zapier or any API client posts a lead here.

Count, parse, store, commit, answer: the commit wakes the dispatcher, which enqueues the reply,
so a post costs one Redis round trip (the rate limits), one short transaction, and setting a
flag for the process's wake-up thread (loopstrat/wake.py). Over the limits a post
is stored and its reply held (docs/intake.md). Never texts from the request.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, jsonify, redirect, render_template, request
from werkzeug.wrappers.response import Response as BaseResponse

from loopstrat import runtime
from loopstrat.clock import utcnow
from loopstrat.leads.admission import Admission, IntakeLimits, admit, sender_of
from loopstrat.leads.form import FormErrors, LeadForm, is_bot
from loopstrat.leads.intake import Evidence, store_lead
from loopstrat.leads.intake_accounts import IntakeAccount
from loopstrat.ratelimit import retry_after_s
from webhooks.json_body import json_object

bp = Blueprint("leads", __name__)

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
JSON_TYPE = "application/json"
# Form keys are token_urlsafe(12); anything else is answered 404 before any lookup or count.
FORM_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")


@bp.post("/leads/<form_key>")
def post_lead(form_key: str) -> BaseResponse | tuple[Response, int]:
    rt = runtime.current()
    mimetype = request.mimetype
    if mimetype != JSON_TYPE and mimetype not in FORM_TYPES:
        return _error(415, {"content_type": f"use {JSON_TYPE} or a form post"})
    length = request.content_length
    if length is not None and length > rt.settings.intake_max_body_bytes:
        return _error(413, {"body": f"larger than {rt.settings.intake_max_body_bytes} bytes"})
    if not FORM_KEY.fullmatch(form_key):
        return _error(404, {"form_key": "no such form"})
    admission = _admission(rt, form_key)
    if admission is Admission.REFUSE:
        return _refused()
    account = rt.intake_accounts.get(form_key)
    if account is None:
        return _error(404, {"form_key": "no such form"})
    fields = _fields()
    if fields is None:
        return _error(400, {"body": "is not a JSON object"})
    if is_bot(fields):
        return _accepted(account, None)  # look like success so the bot learns nothing
    try:
        form = LeadForm.parse(fields)
    except FormErrors as exc:
        return _error(400, exc.errors)
    evidence = Evidence(request.remote_addr, request.user_agent.string)
    lead_id = _store(account, form, evidence, hold=admission is Admission.HOLD)
    return _accepted(account, lead_id)  # held or not, the same answer: a flooder learns nothing


def _admission(rt: runtime.Runtime, form_key: str) -> Admission:
    """Count this post against its address and its form first: the account lookup after it
    is then bounded per address too. Without Redis every post is answered (fails open)."""
    counts = rt.limiter.count([f"ip:{sender_of(request.remote_addr)}", f"key:{form_key}"])
    if counts is None:
        return Admission.ANSWER
    address_posts, form_posts = counts
    s = rt.settings
    limits = IntakeLimits(s.intake_rate_per_ip_per_min, s.intake_rate_per_key_per_min)
    return admit(address_posts, form_posts, limits)


def _refused() -> tuple[Response, int]:
    response, status = _error(429, {"rate": "too many leads; try again shortly"})
    # Up to 60 s: gunicorn keeps the connection longer than that (loopstrat/gunicorn_conf.py),
    # so a client that waits and retries on it is answered.
    response.headers["Retry-After"] = str(retry_after_s())
    return response, status


def _fields() -> dict[str, object] | None:
    if request.mimetype == JSON_TYPE:
        return json_object()
    return dict(request.form.items())


def _store(account: IntakeAccount, form: LeadForm, evidence: Evidence, *, hold: bool) -> int:
    rt = runtime.current()
    lead_id = store_lead(rt.engine, account, form, evidence, utcnow(), hold=hold)
    rt.waker.wake()  # committed: the dispatcher claims the reply now (loopstrat/wake.py)
    return lead_id


def _wants_json() -> bool:
    if request.mimetype == JSON_TYPE:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _accepted(account: IntakeAccount, lead_id: int | None) -> BaseResponse | tuple[Response, int]:
    if _wants_json():
        return jsonify({"status": "accepted", "lead_id": lead_id}), 202
    if account.thank_you_url:
        return redirect(account.thank_you_url, code=303)
    return redirect(f"/leads/{account.form_key}/thanks", code=303)


def _error(status: int, errors: dict[str, str]) -> tuple[Response, int]:
    if _wants_json() or status in (413, 415):
        return jsonify({"errors": errors}), status
    html = render_template("intake/error.html", errors=errors, status=status)
    return Response(html, status=status, mimetype="text/html"), status


@bp.get("/leads/<form_key>/thanks")
def thanks(form_key: str) -> str:
    account = runtime.current().intake_accounts.get(form_key)
    return render_template("intake/thanks.html", business=account.name if account else None)
