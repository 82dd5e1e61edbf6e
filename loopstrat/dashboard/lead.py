"""One lead's conversation: the thread both ways, a reply box on the same gated, exactly-once
path as `loopstrat reply`, assist drafts, take-over and hand-back, and the lead's outcome."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from loopstrat import runtime
from loopstrat.conversations import takeover
from loopstrat.conversations.outcomes import NOT_SENT, describe_outcome
from loopstrat.conversations.view import conversation
from loopstrat.dashboard import bp
from loopstrat.dashboard.sessions import current_user
from loopstrat.leads.outcome import MARKS, MarkRefused, mark_lead
from loopstrat.models import ConsentEvent, Contact, Lead

EVIDENCE_SHOWN = 5


@bp.get("/leads/<int:lead_id>")
def lead(lead_id: int) -> str:
    account_id = current_user().account_id
    with runtime.current().sessions() as db:
        view = conversation(db, account_id, lead_id)
        row = db.scalar(select(Lead).where(Lead.id == lead_id, Lead.account_id == account_id))
        if view is None or row is None:
            abort(404)
        contact = db.get_one(Contact, row.contact_id)
        evidence = db.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.account_id == account_id, ConsentEvent.contact_id == contact.id)
            .order_by(ConsentEvent.created_at.desc(), ConsentEvent.id.desc())
            .limit(EVIDENCE_SHOWN)
        ).all()
        return render_template(
            "dashboard/lead.html",
            user=current_user(),
            view=view,
            lead=row,
            contact=contact,
            evidence=evidence,
            marks=MARKS,
            request_key=uuid.uuid4().hex,
        )


@bp.post("/leads/<int:lead_id>/reply")
def reply(lead_id: int) -> Response:
    body = request.form.get("body", "")
    key = request.form.get("request_key", "")[:40] or uuid.uuid4().hex
    return _act(
        lead_id,
        lambda rt, account_id: _said(
            rt,
            takeover.reply_as_person(
                rt, account_id=account_id, lead_id=lead_id, body=body, request_key=key
            ),
        ),
    )


@bp.post("/leads/<int:lead_id>/drafts/<int:draft_id>/send")
def send_draft(lead_id: int, draft_id: int) -> Response:
    body = request.form.get("body")
    return _act(
        lead_id,
        lambda rt, account_id: _said(
            rt,
            takeover.send_draft(
                rt, account_id=account_id, lead_id=lead_id, draft_id=draft_id, body=body
            ),
        ),
    )


@bp.post("/leads/<int:lead_id>/drafts/<int:draft_id>/drop")
def drop_draft(lead_id: int, draft_id: int) -> Response:
    def drop(rt: runtime.Runtime, account_id: int) -> str:
        takeover.drop_draft(rt, account_id=account_id, lead_id=lead_id, draft_id=draft_id)
        return "Draft dropped: nothing was sent."

    return _act(lead_id, drop)


@bp.post("/leads/<int:lead_id>/take-over")
def take_over(lead_id: int) -> Response:
    def act(rt: runtime.Runtime, account_id: int) -> str:
        takeover.take_over(rt, account_id=account_id, lead_id=lead_id)
        return "You have this conversation: the AI will not answer it."

    return _act(lead_id, act)


@bp.post("/leads/<int:lead_id>/hand-back")
def hand_back(lead_id: int) -> Response:
    def act(rt: runtime.Runtime, account_id: int) -> str:
        takeover.hand_back(rt, account_id=account_id, lead_id=lead_id)
        return "Handed back: the AI answers this lead again."

    return _act(lead_id, act)


@bp.post("/leads/<int:lead_id>/mark")
def mark(lead_id: int) -> Response:
    status = request.form.get("status", "")
    value = request.form.get("job_value", "")

    def act(rt: runtime.Runtime, account_id: int) -> str:
        planned = mark_lead(
            rt, account_id=account_id, lead_id=lead_id, status=status, job_value=value
        )
        return f"Marked {status}. {planned}".strip()

    return _act(lead_id, act)


def _said(rt: runtime.Runtime, outcome: Any) -> str:
    words = describe_outcome(rt, outcome)
    if outcome is not None and outcome.result in NOT_SENT:
        return f"Not sent: {words}."
    return f"Reply {words}."


def _act(lead_id: int, action: Callable[[runtime.Runtime, int], str]) -> Response:
    """Run one action on a lead of the signed-in account, say what happened, and go back to
    the conversation (post/redirect/get: a reload never repeats it)."""
    rt, account_id = runtime.current(), current_user().account_id
    with rt.sessions() as db:
        if (
            db.scalar(select(Lead.id).where(Lead.id == lead_id, Lead.account_id == account_id))
            is None
        ):
            abort(404)
    try:
        flash(action(rt, account_id))
    except (takeover.TakeoverError, MarkRefused) as exc:
        flash(f"Not done: {exc}.", "error")
    return redirect(url_for("dashboard.lead", lead_id=lead_id))
