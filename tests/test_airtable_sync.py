"""Airtable sync, end to end: a lead, its reply and its delivery land in the account's own base,
paced, upserted on the Loopstrat ID, and never in the way of a text."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from loopstrat.clock import utcnow
from loopstrat.compliance.consent import record_opt_out
from loopstrat.contacts import delete_contact
from loopstrat.crm.sync import sync_account
from loopstrat.journal import note_all, note_change
from loopstrat.models import ConsentEvent, Contact, CrmChange, CrmSyncState, Lead, Message, Outbox
from loopstrat.sms.status import apply_status
from tests.airtable_api import connect
from tests.leads_helpers import LEAD, post_lead
from workers.jobs import sync_crm
from workers.scheduler import dispatch_due


def waiting(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(CrmChange))


def sync_outbox(db, account_id):
    db.expire_all()
    return db.scalar(
        select(Outbox).where(Outbox.kind == "crm_sync", Outbox.ref_id == str(account_id))
    )


def test_one_lead_lands_in_the_right_three_tables(
    client, rt, account, twilio, airtable, worker, clock, db
):
    connect(rt, account.id)
    lead_id = post_lead(client, account).get_json()["lead_id"]
    worker()  # the reply goes out
    assert len(twilio.created) == 1
    dispatch_due(rt)
    worker()  # the crm job

    lead = db.get(Lead, lead_id)
    msg = db.scalars(select(Message).where(Message.lead_id == lead_id)).one()
    contact = db.get(Contact, lead.contact_id)
    assert airtable.row("Contacts", f"C{contact.id}") == {
        "Loopstrat ID": f"C{contact.id}",
        "Name": "Jane Doe",
        "Phone": "+18015550142",
        "Email": "jane@example.com",
        "ZIP": "84101",
        "Consent": "inquiry",
        "Opted out": False,
    }
    lead_row = airtable.row("Leads", f"L{lead_id}")
    assert lead_row["Contact"] == f"C{contact.id}"
    assert lead_row["Inquiry"] == "My water heater is leaking"
    assert lead_row["Status"] == "responded"
    assert lead_row["Source"] == "web_form"
    assert lead_row["First response (s)"] == round(
        (lead.first_response_at - lead.received_at).total_seconds()
    )
    msg_row = airtable.row("Messages", f"M{msg.id}")
    assert msg_row["Direction"] == "out"
    assert msg_row["Body"] == twilio.created[0]["body"]
    assert msg_row["Drafted by"] == "template"
    assert msg_row["Lead"] == f"L{lead_id}"
    assert msg_row["Sent"] is not None and msg_row["Delivered"] is None
    # One paced request per table, each a documented upsert on the key field.
    assert [c.table for c in airtable.writes()] == ["Contacts", "Leads", "Messages"]
    for call in airtable.writes():
        assert call.body["performUpsert"] == {"fieldsToMergeOn": ["Loopstrat ID"]}
    assert waiting(db) == 0
    assert db.get(CrmSyncState, account.id).last_success_at is not None
    assert sync_outbox(db, account.id).state == "done"


def test_replays_and_later_changes_update_rows_and_never_duplicate(
    client, rt, account, twilio, airtable, worker, clock, db
):
    connect(rt, account.id)
    lead_id = post_lead(client, account).get_json()["lead_id"]
    worker()  # the reply, then the sync
    msg = db.scalars(select(Message).where(Message.lead_id == lead_id)).one()

    def delivered() -> None:  # Twilio sends a status callback more than once
        with rt.sessions() as session:
            apply_status(
                session, sid=msg.twilio_sid, status="delivered", error_code=None, now=utcnow()
            )
            session.commit()
        worker()

    delivered()
    statuses = [c.body["records"][0]["fields"]["Status"] for c in airtable.writes("Messages")]
    assert statuses == ["queued", "delivered"]
    delivered()  # the replay changes nothing, so nothing is written
    assert len(airtable.writes("Messages")) == 2
    post_lead(client, account)  # a re-post within 10 minutes folds into the open lead
    worker()
    with rt.sessions() as session:  # journal everything again, as a backfill would
        assert note_all(session, account.id) == 3
        session.commit()
    assert sync_account(rt, account.id, sleep=clock.shift).synced == 3

    assert len(airtable.rows("Contacts")) == 1
    assert len(airtable.rows("Leads")) == 1
    assert len(airtable.rows("Messages")) == 1
    assert airtable.row("Messages", f"M{msg.id}")["Status"] == "delivered"
    assert airtable.row("Messages", f"M{msg.id}")["Delivered"] is not None
    assert len(airtable.writes("Leads")) >= 3  # first post, re-post, backfill: one row


def add_contacts(rt, account_id: int, count: int) -> list[int]:
    with rt.sessions() as session:
        people = [
            Contact(account_id=account_id, phone=f"+1801555{1000 + i:04d}", name=f"Person {i}")
            for i in range(count)
        ]
        session.add_all(people)
        session.flush()
        for person in people:
            note_change(session, account_id, "contact", person.id)
        session.commit()
        return [p.id for p in people]


def test_changes_go_in_batches_of_ten_paced_under_the_base_limit(rt, account, airtable, clock, db):
    connect(rt, account.id)
    add_contacts(rt, account.id, 73)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.shift(seconds)

    result = sync_account(rt, account.id, sleep=sleep)

    assert result.state == "done" and result.synced == 73
    assert [len(c.body["records"]) for c in airtable.writes("Contacts")] == [10] * 7 + [3]
    assert len(airtable.rows("Contacts")) == 73
    assert airtable.rate_limited == 0
    assert waits and max(waits) <= 1.5  # waited for a slot instead of drawing a 429
    assert waiting(db) == 0


def test_a_change_made_while_its_batch_is_in_flight_is_sent_again(rt, account, airtable, clock):
    connect(rt, account.id)
    [person] = add_contacts(rt, account.id, 1)

    def rename() -> None:
        with rt.sessions() as session:
            session.get(Contact, person).name = "Renamed"
            note_change(session, account.id, "contact", person)
            session.commit()

    airtable.during_write = rename
    assert sync_account(rt, account.id, sleep=clock.shift).synced == 2
    assert airtable.row("Contacts", f"C{person}")["Name"] == "Renamed"
    assert len(airtable.writes("Contacts")) == 2


def test_a_429_storm_pauses_the_base_30_s_each_time_and_then_succeeds(
    rt, account, airtable, clock, db
):
    connect(rt, account.id)
    add_contacts(rt, account.id, 3)
    airtable.storm = 3

    first = sync_account(rt, account.id, sleep=clock.shift)
    assert first.state == "failed" and "429" in first.error
    assert first.until >= utcnow() + timedelta(seconds=29)
    assert sync_outbox(db, account.id).due_at == first.until
    for _ in range(3):  # redriven early (a second worker, a sweeper): the base stays silent
        assert sync_account(rt, account.id, sleep=clock.shift).state == "waiting"
    assert len(airtable.calls) == 1

    for _ in range(2):
        clock.shift(31)
        assert sync_account(rt, account.id, sleep=clock.shift).state == "failed"
    clock.shift(31)
    assert sync_account(rt, account.id, sleep=clock.shift).state == "done"

    assert [c.status for c in airtable.calls] == [429, 429, 429, 200]
    gaps = [b.at - a.at for a, b in zip(airtable.calls, airtable.calls[1:], strict=False)]
    assert min(gaps) >= 30
    assert len(airtable.rows("Contacts")) == 3
    assert waiting(db) == 0


def test_server_errors_back_off_and_keep_the_changes(rt, account, airtable, clock, db):
    connect(rt, account.id)
    add_contacts(rt, account.id, 2)
    airtable.fail_with = [503, 502]

    failed = sync_account(rt, account.id, sleep=clock.shift)
    assert failed.state == "failed" and "503" in failed.error
    again = sync_account(rt, account.id, sleep=clock.shift)
    assert (again.until - utcnow()) > (failed.until - utcnow())  # longer each time
    assert waiting(db) == 2
    assert sync_account(rt, account.id, sleep=clock.shift).state == "done"
    assert len(airtable.rows("Contacts")) == 2
    assert db.get(CrmSyncState, account.id).failing_since is None


def test_an_invalid_token_is_a_clear_sync_error_and_the_text_still_goes_out(
    client, rt, account, twilio, airtable, worker, clock, db
):
    connect(rt, account.id, token="patRevoked.0000")
    post_lead(client, account)
    worker()  # the reply job and the sync job

    assert len(twilio.created) == 1  # the lead got its text
    assert airtable.calls and {c.status for c in airtable.calls} == {401}
    state = db.get(CrmSyncState, account.id)
    assert "AUTHENTICATION_REQUIRED" in state.last_error
    assert "loopstrat airtable connect" in state.last_error
    assert "patRevoked" not in state.last_error
    assert waiting(db) == 3  # contact, lead and message wait for a good token
    assert sync_outbox(db, account.id).due_at > utcnow() + timedelta(minutes=5)


def test_a_sync_failing_for_an_hour_alerts_the_account_once(
    rt, account, twilio, airtable, worker, clock, db
):
    connect(rt, account.id, token="patRevoked.0000")
    add_contacts(rt, account.id, 1)
    for minutes in range(0, 80, 10):  # every 10 minutes, for 70 minutes
        assert sync_crm(account.id, sleep=clock.shift) == "failed"  # the crm queue's job
        worker()  # no clock moved: a stored alert goes out on the dispatcher's next poll
        alerts = [m for m in twilio.created if m["to"] == account.alert_phone]
        assert len(alerts) == (1 if minutes >= 60 else 0), minutes
        clock.shift(600)
    assert "Airtable sync has failed" in alerts[0]["body"]
    assert "patRevoked" not in alerts[0]["body"]

    connect(rt, account.id)  # fixed: the streak ends, a later one would alert again
    assert sync_account(rt, account.id, sleep=clock.shift).state == "done"
    state = db.get(CrmSyncState, account.id)
    assert state.failing_since is None and state.failure_alerted_at is None


def test_with_no_token_nothing_is_journaled_or_queued(client, account, twilio, worker, clock, db):
    post_lead(client, account)
    worker()
    assert len(twilio.created) == 1
    assert waiting(db) == 0
    assert sync_outbox(db, account.id) is None


def test_deleting_a_contact_deletes_its_rows_and_opting_out_does_not(
    client, rt, account, twilio, airtable, worker, clock, db
):
    connect(rt, account.id)
    lead_id = post_lead(client, account).get_json()["lead_id"]
    other = post_lead(client, account, data={**LEAD, "phone": "801-555-0177"}).get_json()
    worker()
    dispatch_due(rt)
    worker()
    assert len(airtable.rows("Messages")) == 2
    jane = db.get(Lead, lead_id).contact_id
    with rt.sessions() as session:
        record_opt_out(
            session, session.get(Contact, jane), source="sms", evidence="STOP", now=utcnow()
        )
        session.commit()
    assert sync_account(rt, account.id, sleep=clock.shift).state == "done"
    assert airtable.row("Contacts", f"C{jane}")["Opted out"] is True

    with rt.sessions() as session:
        deleted = delete_contact(session, account.id, jane, actor="test")
        session.commit()
    assert (deleted.leads, deleted.messages) == (1, 1)
    assert sync_account(rt, account.id, sleep=clock.shift).state == "done"

    keys = {r["Loopstrat ID"] for t in ("Contacts", "Leads", "Messages") for r in airtable.rows(t)}
    other_lead = db.get(Lead, other["lead_id"])
    assert f"C{jane}" not in keys and f"L{lead_id}" not in keys
    assert {f"C{other_lead.contact_id}", f"L{other_lead.id}"} <= keys
    assert len(airtable.rows("Messages")) == 1
    deletes = [c for c in airtable.calls if c.method == "DELETE"]
    assert all(len(c.query["records[]"]) <= 10 for c in deletes) and len(deletes) == 3
    evidence = db.scalars(select(ConsentEvent).where(ConsentEvent.phone == "+18015550142")).all()
    assert {e.kind for e in evidence} == {"inquiry", "opt_out"}
    assert all(e.contact_id is None for e in evidence)


def test_a_conversation_lands_in_messages_too(
    client, rt, account, twilio, airtable, worker, clock, db
):
    from tests.twilio_inbound import text_in

    connect(rt, account.id)
    lead_id = post_lead(client, account).get_json()["lead_id"]
    worker()
    text_in(client, account, "Tuesday works")
    worker()  # the contractor's alert goes out
    dispatch_due(rt)
    worker()

    db.expire_all()
    kinds = {m.id: m.kind for m in db.scalars(select(Message))}
    assert sorted(kinds.values()) == ["alert", "first_reply", "inbound"]
    for message_id, kind in kinds.items():
        row = airtable.row("Messages", f"M{message_id}")
        assert row["Kind"] == kind
        assert row["Status"] in ("queued", "received")
    assert airtable.row("Leads", f"L{lead_id}")["Status"] == "replied"


def test_a_deleted_contact_s_ids_are_never_given_to_someone_else(
    client, rt, account, twilio, worker, clock, db
):
    first = post_lead(client, account).get_json()["lead_id"]
    contact_id = db.get(Lead, first).contact_id
    with rt.sessions() as session:
        delete_contact(session, account.id, contact_id, "test")
        session.commit()
    second = post_lead(client, account, {**LEAD, "phone": "801-555-0143"}).get_json()["lead_id"]
    db.expire_all()
    assert second > first
    assert db.get(Lead, second).contact_id > contact_id  # C12 in Airtable stays one person


def test_the_failing_sync_alert_waits_out_the_account_s_do_not_disturb(
    rt, twilio, airtable, worker, clock, db
):
    from tests.conftest import make_account

    account = make_account(rt, alert_dnd_start="10:00", alert_dnd_end="18:00")  # 11:00 now
    connect(rt, account.id, token="patRevoked.0000")
    add_contacts(rt, account.id, 1)
    for _ in range(8):
        sync_crm(account.id, sleep=clock.shift)
        worker()
        clock.shift(600)
    assert [m for m in twilio.created if m["to"] == account.alert_phone] == []
    clock.shift(timedelta(hours=6))  # past 18:00 in Salt Lake City
    worker()
    assert len([m for m in twilio.created if m["to"] == account.alert_phone]) == 1
