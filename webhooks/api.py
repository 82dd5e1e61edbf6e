"""POST /api/jobs/done: a field-service tool says a job is finished, with the account's API key
(`Authorization: Bearer ls_…`). The lead is named by its id, or by the customer's phone (their
latest lead). Thin: authenticate, parse, call leads/outcome.mark_lead, answer JSON."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select

from loopstrat import runtime
from loopstrat.api_keys import account_of_key
from loopstrat.db import MAX_ID
from loopstrat.leads.outcome import MarkRefused, job_value_cents, mark_lead
from loopstrat.models import Contact, Lead
from loopstrat.phones import InvalidPhone, normalise
from webhooks.json_body import json_object

bp = Blueprint("api", __name__, url_prefix="/api")


class BadField(ValueError):
    """A field of the posted JSON, and why it is refused."""

    def __init__(self, field: str, why: str) -> None:
        super().__init__(why)
        self.field = field


@bp.post("/jobs/done")
def job_done() -> tuple[Response, int]:
    rt = runtime.current()
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    with rt.sessions() as session:
        account = account_of_key(session, key.strip()) if scheme == "Bearer" else None
        if account is None:
            return _error(401, {"authorization": "send the account's API key: Bearer ls_…"})
        account_id = account.id
    body = json_object()
    if body is None:
        return _error(400, {"body": "a JSON object with lead_id or phone"})
    job_value = body.get("job_value", "")
    if not isinstance(job_value, str | int | float) or isinstance(job_value, bool):
        return _error(400, {"job_value": 'an amount in dollars, like 1250 or "1250.50"'})
    try:
        if str(job_value).strip():
            job_value_cents(str(job_value))
    except MarkRefused as exc:
        return _error(400, {"job_value": str(exc)})
    try:
        lead_id = _lead_named(rt, account_id, body)
        said = mark_lead(
            rt, account_id=account_id, lead_id=lead_id, status="completed", job_value=str(job_value)
        )
    except LookupError as exc:
        return _error(404, {"lead": str(exc)})
    except BadField as exc:
        return _error(400, {exc.field: str(exc)})
    return jsonify({"lead_id": lead_id, "status": "completed", "review_request": said}), 200


def _lead_named(rt: runtime.Runtime, account_id: int, body: dict[str, object]) -> int:
    lead_id, phone = body.get("lead_id"), body.get("phone")
    with rt.sessions() as session:
        if isinstance(lead_id, int) and not isinstance(lead_id, bool):
            if not 0 < lead_id <= MAX_ID:  # the database's integers end there: past it, no lead
                raise BadField("lead_id", "not a lead id")
            found = session.scalar(
                select(Lead.id).where(Lead.account_id == account_id, Lead.id == lead_id)
            )
        elif isinstance(phone, str):
            try:
                e164 = normalise(phone)
            except InvalidPhone as exc:
                raise BadField("phone", str(exc)) from None
            found = session.scalar(
                select(Lead.id)
                .join(Contact, Contact.id == Lead.contact_id)
                .where(Lead.account_id == account_id, Contact.phone == e164)
                .order_by(Lead.received_at.desc())
                .limit(1)
            )
        else:
            raise BadField("lead", "give lead_id (a number) or phone")
    if found is None:
        raise LookupError("no such lead for this account")
    return found


def _error(status: int, errors: dict[str, str]) -> tuple[Response, int]:
    return jsonify({"errors": errors}), status
