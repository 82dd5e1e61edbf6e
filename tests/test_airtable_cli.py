"""`loopstrat airtable …` and `loopstrat contact delete`, as an operator runs them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from loopstrat.crm import cli as crm_cli
from loopstrat.crm.connection import decrypt_token
from loopstrat.crm.records import FIELDS
from loopstrat.models import Account, Contact, CrmChange, Outbox
from tests.airtable_api import BASE_ID, TOKEN, FakeAirtable, connect
from tests.leads_helpers import post_lead


@pytest.fixture
def run(cli, clock, monkeypatch):
    """The CLI (conftest's cli) with a token on stdin; waits move the clock, not sleep."""
    monkeypatch.setattr(crm_cli, "sleep", clock.shift)

    def invoke(*args: str, token: str | None = None):
        return cli(*args, input=token)

    return invoke


def stored(db, account_id):
    db.expire_all()
    return db.get(Account, account_id)


def test_connect_reads_the_token_from_stdin_checks_it_and_stores_it_encrypted(
    run, rt, account, airtable, db
):
    result = run(
        "airtable", "connect", "--account", str(account.id), "--base", BASE_ID, token=TOKEN + "\n"
    )

    assert result.exit_code == 0, result.output
    assert TOKEN not in result.output
    assert "pat…cdef" in result.output
    assert "every table has the fields" in result.output
    acct = stored(db, account.id)
    assert acct.airtable_base_id == BASE_ID
    assert TOKEN not in acct.airtable_token_encrypted
    assert decrypt_token(rt.settings, acct.airtable_token_encrypted) == TOKEN
    assert acct.airtable_tables == {
        "contacts": "Contacts",
        "leads": "Leads",
        "messages": "Messages",
    }
    assert [c.path for c in airtable.calls] == [
        "/v0/meta/whoami",
        f"/v0/meta/bases/{BASE_ID}/tables",
    ]


def test_a_token_airtable_refuses_is_not_stored(run, account, airtable, db):
    result = run(
        "airtable",
        "connect",
        "--account",
        str(account.id),
        "--base",
        BASE_ID,
        token="patWrong.123456789\n",
    )
    assert result.exit_code == 1
    assert "AUTHENTICATION_REQUIRED" in result.output
    assert "patWrong.123456789" not in result.output
    assert stored(db, account.id).airtable_token_encrypted is None


def test_check_names_each_missing_field_with_its_type(run, rt, account, twilio, db):
    airtable = FakeAirtable(twilio.mock).install(with_tables=False)
    airtable.add_table("Contacts", [f.model() for f in FIELDS["contacts"] if f.name != "Opted out"])
    airtable.add_table(
        "Leads",
        [{"name": "Loopstrat ID", "type": "singleLineText"}, {"name": "Status", "type": "number"}],
    )
    connect(rt, account.id)

    result = run("airtable", "check", "--account", str(account.id))

    assert result.exit_code == 1
    assert 'table "Contacts": add field "Opted out" (checkbox)' in result.output
    assert 'table "Leads": add field "First response (s)" (number, precision 0)' in result.output
    assert 'field "Status" is number, needs singleSelect: new | responded' in result.output
    assert 'table "Messages" is missing' in result.output


def test_setup_creates_missing_tables_and_fields_then_check_passes(run, rt, account, twilio, db):
    airtable = FakeAirtable(twilio.mock).install(with_tables=False)
    airtable.add_table("Contacts", [f.model() for f in FIELDS["contacts"][:3]])
    connect(rt, account.id)

    result = run("airtable", "setup", "--account", str(account.id))

    assert result.exit_code == 0, result.output
    assert 'created table "Leads"' in result.output
    assert 'created table "Contacts" field "Opted out"' in result.output
    creates = [c for c in airtable.calls if c.method == "POST"]
    assert len(creates) == 4 + 2  # 4 fields on Contacts, one request per new table
    leads_create = next(c for c in creates if c.body.get("name") == "Leads")
    assert leads_create.body["fields"][0] == {"name": "Loopstrat ID", "type": "singleLineText"}
    assert run("airtable", "check", "--account", str(account.id)).exit_code == 0


def test_setup_without_schema_scope_says_what_to_add_by_hand(run, rt, account, twilio, db):
    airtable = FakeAirtable(twilio.mock).install(with_tables=False)
    airtable.can_write_schema = False
    for kind, name in (("contacts", "Contacts"), ("leads", "Leads")):
        airtable.add_table(name, [f.model() for f in FIELDS[kind]])
    connect(rt, account.id)

    result = run("airtable", "setup", "--account", str(account.id))

    assert result.exit_code == 1
    assert 'left for you: table "Messages" is missing: create it with fields' in result.output
    assert "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND" in result.output
    assert "schema.bases:write" in result.output


def test_backfill_pushes_the_history_and_can_run_again(
    run, rt, client, account, twilio, airtable, worker, db
):
    for phone in ("801-555-0142", "801-555-0143", "801-555-0144"):
        post_lead(client, account, data={"phone": phone, "message": "leak", "consent": "on"})
    worker()  # replies sent before Airtable was connected: nothing was journaled
    assert db.scalar(select(CrmChange.id)) is None
    connect(rt, account.id)

    for _ in range(2):
        result = run("airtable", "backfill", "--account", str(account.id))
        assert result.exit_code == 0, result.output
        assert "9 records pushed" in result.output
    assert (len(airtable.rows("Contacts")), len(airtable.rows("Leads"))) == (3, 3)
    assert len(airtable.rows("Messages")) == 3
    assert airtable.rate_limited == 0


def test_disconnect_forgets_the_token_and_stops_journaling(run, rt, client, account, airtable, db):
    connect(rt, account.id)
    post_lead(client, account)
    result = run("airtable", "disconnect", "--account", str(account.id))
    assert result.exit_code == 0
    assert "2 waiting records dropped" in result.output
    acct = stored(db, account.id)
    assert (acct.airtable_token_encrypted, acct.airtable_base_id) == (None, None)
    post_lead(client, account, data={"phone": "801-555-0150", "consent": "on"})
    assert db.scalar(select(CrmChange.id)) is None
    assert db.scalar(select(Outbox.state).where(Outbox.kind == "crm_sync")) == "cancelled"


def test_contact_delete_from_the_command_line(run, client, account, db):
    post_lead(client, account)
    result = run(
        "contact", "delete", "--account", str(account.id), "--phone", "801-555-0142", "--yes"
    )
    assert result.exit_code == 0, result.output
    assert "with 1 lead and 0 texts" in result.output
    db.expire_all()
    assert db.scalar(select(Contact.id)) is None


def test_the_crm_worker_works_only_the_crm_queue(run, rt, client, account, airtable, clock, db):
    from workers.queues import CRM_QUEUE, DEFAULT_QUEUE, enqueue_outbox, queue

    connect(rt, account.id)
    lead_id = post_lead(client, account).get_json()["lead_id"]
    enqueue_outbox(rt, "respond_to_lead", str(lead_id))  # a text job waits on texts
    enqueue_outbox(rt, "crm_sync", str(account.id))

    result = run("worker", "--queue", "crm", "--burst")

    assert result.exit_code == 0, result.output
    assert queue(rt, DEFAULT_QUEUE).count == 1
    assert queue(rt, CRM_QUEUE).count == 0
    assert len(airtable.rows("Leads")) == 1
