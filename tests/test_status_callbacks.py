"""POST /twilio/status: only Twilio moves a message, only forwards; replays change nothing."""

from __future__ import annotations

from sqlalchemy import select
from twilio.request_validator import RequestValidator

from loopstrat.models import ConsentEvent, Contact, Message
from tests.conftest import PUBLIC_BASE_URL
from tests.leads_helpers import post_lead
from tests.twilio_api import ACCOUNT_SID, AUTH_TOKEN

STATUS_URL = f"{PUBLIC_BASE_URL}/twilio/status"


def callback_params(sid: str, status: str, error_code: str | None = None) -> dict[str, str]:
    params = {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "From": "+18015550111",
        "MessageSid": sid,
        "MessageStatus": status,
        "SmsSid": sid,
        "SmsStatus": status,
        "To": "+18015550142",
    }
    if error_code:
        params["ErrorCode"] = error_code
    return params


def signed(params: dict[str, str], url: str = STATUS_URL, token: str = AUTH_TOKEN) -> dict:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, params)}


def post_status(client, params, headers=None):
    headers = signed(params) if headers is None else headers
    return client.post("/twilio/status", data=params, headers=headers)


def sent_message(client, account, worker, db) -> Message:
    post_lead(client, account)
    worker()
    db.expire_all()
    return db.scalars(select(Message)).one()


def status_of(db, message_id: int) -> str:
    db.expire_all()
    return db.get(Message, message_id).status


def test_a_signed_callback_moves_the_message_forward(client, account, twilio, worker, clock, db):
    msg = sent_message(client, account, worker, db)
    for status in ("sent", "delivered"):
        assert post_status(client, callback_params(msg.twilio_sid, status)).status_code == 204
    assert status_of(db, msg.id) == "delivered"
    assert db.get(Message, msg.id).delivered_at is not None


def test_callbacks_out_of_order_never_move_a_message_backwards(
    client, account, twilio, worker, clock, db
):
    msg = sent_message(client, account, worker, db)
    for status in ("delivered", "sent", "queued", "sending"):
        post_status(client, callback_params(msg.twilio_sid, status))
    assert status_of(db, msg.id) == "delivered"


def test_a_replayed_callback_changes_nothing(client, account, twilio, worker, clock, db):
    msg = sent_message(client, account, worker, db)
    params = callback_params(msg.twilio_sid, "undelivered", "30003")
    assert post_status(client, params).status_code == 204
    assert post_status(client, params).status_code == 204
    db.expire_all()
    row = db.get(Message, msg.id)
    assert (row.status, row.error_code) == ("undelivered", 30003)


def test_a_forged_signature_is_refused_and_changes_nothing(
    client, account, twilio, worker, clock, db
):
    msg = sent_message(client, account, worker, db)
    params = callback_params(msg.twilio_sid, "failed", "30007")
    forged = signed(params, token="not-the-auth-token")
    assert post_status(client, params, forged).status_code == 403
    assert status_of(db, msg.id) == "queued"


def test_a_missing_signature_is_refused(client, account, twilio, worker, clock, db):
    msg = sent_message(client, account, worker, db)
    assert post_status(client, callback_params(msg.twilio_sid, "failed"), {}).status_code == 403
    assert status_of(db, msg.id) == "queued"


def test_a_signature_for_other_params_is_refused(client, account, twilio, worker, clock, db):
    msg = sent_message(client, account, worker, db)
    real = callback_params(msg.twilio_sid, "sent")
    tampered = {**real, "MessageStatus": "failed"}
    assert post_status(client, tampered, signed(real)).status_code == 403


def test_the_signature_is_checked_against_the_public_url_not_the_proxy_hop(
    client, account, twilio, worker, clock, db
):
    msg = sent_message(client, account, worker, db)
    params = callback_params(msg.twilio_sid, "delivered")
    seen_by_flask = "http://localhost/twilio/status"  # what the app sees behind the proxy
    assert post_status(client, params, signed(params, url=seen_by_flask)).status_code == 403
    assert post_status(client, params, signed(params)).status_code == 204


def test_carrier_unsubscribed_error_opts_the_contact_out(
    client, account, twilio, worker, clock, db
):
    msg = sent_message(client, account, worker, db)
    post_status(client, callback_params(msg.twilio_sid, "failed", "21610"))
    db.expire_all()
    assert db.scalars(select(Contact)).one().opted_out_at is not None
    kinds = [e.kind for e in db.scalars(select(ConsentEvent).order_by(ConsentEvent.id))]
    assert kinds == ["inquiry", "opt_out"]


def test_a_callback_for_an_unknown_sid_is_accepted_and_ignored(client, account, db):
    params = callback_params("SM" + "f" * 32, "delivered")
    assert post_status(client, params).status_code == 204
