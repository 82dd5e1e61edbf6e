"""Importing past customers for reactivation: good rows in, each bad row reported with its
reason, nothing half-imported, and consent evidence for every row that came in."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from loopstrat.campaigns.imports import BadFile, import_customers
from loopstrat.clock import utcnow
from loopstrat.models import ConsentEvent, Contact
from tests.leads_helpers import post_lead
from tests.twilio_inbound import text_in

HEADER = (
    "name,phone,email,zip,last_service_date,last_job_value,marketing_consent,"
    "consent_source,consent_date\n"
)
GOOD = (
    "Ann Smith,801-555-0101,ann@example.com,84101,2024-03-01,450,yes,invoice checkbox,2024-03-01\n"
)


def csv_text(*rows: str) -> str:
    return HEADER + "".join(rows)


def run_import(rt, account, text: str):
    with rt.sessions() as session:
        report = import_customers(session, account.id, io.StringIO(text), utcnow())
        session.commit()
    return report


def test_good_rows_come_in_and_each_bad_row_is_reported_with_its_reason(rt, account, db, clock):
    report = run_import(
        rt,
        account,
        csv_text(
            GOOD,
            "Bad Phone,555-1234,,,,,yes,web,2024-01-01\n",
            "No Consent,801-555-0102,,,,,no,,\n",
            "Unsure,801-555-0103,,,,,maybe,web,2024-01-01\n",
            "No Source,801-555-0104,,,,,yes,,2024-01-01\n",
            "Future,801-555-0105,,,,,yes,web,2999-01-01\n",
            "Ann Again,(801) 555-0101,,,,,yes,web,2024-01-01\n",
            "Bad Value,801-555-0106,,,,twelve,yes,web,2024-01-01\n",
            "Bad Zip,801-555-0107,,ABCDE,,,yes,web,2024-01-01\n",
            "Bob Jones,801-555-0108,,,06/30/2023,,Y,paper form,06/30/2023\n",
        ),
    )
    assert (report.imported, report.updated) == (2, 0)
    assert report.rejected == [
        (3, "bad phone: not a valid North American phone number"),
        (4, "no marketing consent"),
        (5, "marketing_consent must be yes or no"),
        (6, "no consent: consent_source (where they agreed) is empty"),
        (7, "no consent: consent_date is in the future"),
        (8, "duplicate of row 2"),
        (9, "last_job_value must be an amount in dollars, like 1250 or 1250.50"),
        (10, "zip must be a 5-digit US ZIP code"),
    ]
    ann = db.scalars(select(Contact).where(Contact.phone == "+18015550101")).one()
    assert (ann.name, ann.zip, ann.last_service_on, ann.last_job_value_cents) == (
        "Ann Smith", "84101", date(2024, 3, 1), 45000,
    )  # fmt: skip
    assert ann.marketing_consent_at == datetime(2024, 3, 1, tzinfo=UTC)
    assert ann.consent_at is None  # no consent to texts about a request: nothing was asked
    evidence = db.scalars(select(ConsentEvent).where(ConsentEvent.contact_id == ann.id)).one()
    assert (evidence.kind, evidence.source) == ("marketing", "csv")
    assert evidence.text_shown == "imported: invoice checkbox; agreed 2024-03-01"


def test_someone_who_opted_out_earlier_is_never_imported_back(
    rt, client, account, twilio, worker, db, clock
):
    post_lead(client, account)
    worker()
    text_in(client, account, "STOP")
    worker()
    report = run_import(rt, account, csv_text("Jane Doe,801-555-0142,,,,,yes,web,2024-01-01\n"))
    assert report.rejected == [(2, "opted out earlier: never texted again")]
    jane = db.scalars(select(Contact)).one()
    assert jane.marketing_consent_at is None and jane.opted_out_at is not None


def test_a_known_contact_keeps_what_it_had_and_gains_its_last_job(
    rt, client, account, twilio, worker, db, clock
):
    post_lead(client, account)  # Jane Doe, 801-555-0142, ZIP 84101
    report = run_import(
        rt, account, csv_text("J. Doe,801-555-0142,,84102,2024-05-05,99.50,yes,web,2024-05-05\n")
    )
    assert (report.imported, report.updated) == (0, 1)
    db.expire_all()
    jane = db.scalars(select(Contact)).one()
    assert (jane.name, jane.zip) == ("Jane Doe", "84101")
    assert (jane.last_service_on, jane.last_job_value_cents) == (date(2024, 5, 5), 9950)
    assert jane.marketing_consent_at == datetime(2024, 5, 5, tzinfo=UTC)


def test_a_file_without_the_needed_columns_imports_nothing(rt, account, db):
    with pytest.raises(BadFile, match="lacks marketing_consent, consent_source, consent_date"):
        run_import(rt, account, "name,phone\nAnn,801-555-0101\n")
    assert db.scalar(select(func.count()).select_from(Contact)) == 0


def test_a_failure_part_way_imports_nothing(rt, account, db, monkeypatch):
    from loopstrat.campaigns import imports

    monkeypatch.setattr(imports, "BATCH", 2)
    calls = {"n": 0}
    real = imports._insert_new

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(imports, "_insert_new", failing)
    rows = [f"P{i},801-555-01{10 + i},,,,,yes,web,2024-01-01\n" for i in range(5)]
    with pytest.raises(RuntimeError):
        run_import(rt, account, csv_text(*rows))
    assert db.scalar(select(func.count()).select_from(Contact)) == 0
    assert db.scalar(select(func.count()).select_from(ConsentEvent)) == 0


def test_the_command_imports_with_a_progress_bar_and_writes_the_report(
    rt,
    account,
    cli,
    tmp_path,
    db,
):
    source = tmp_path / "customers.csv"
    rows = [
        f"P{i},801-555-{1000 + i},,,2024-01-0{1 + i % 9},,yes,web,2024-01-01\n" for i in range(30)
    ]
    source.write_text(csv_text(*rows, "Bad,123,,,,,yes,web,2024-01-01\n"))
    out = tmp_path / "rejected.csv"
    done = cli(
        "campaign", "import", "--account", str(account.id), str(source), "--report", str(out)
    )
    assert done.exit_code == 0, done.output
    assert "imported 30 new, updated 0, rejected 1" in done.output
    assert "row 32: bad phone" in done.output
    assert list(csv.reader(out.read_text().splitlines())) == [
        ["row", "reason"], ["32", "bad phone: not a valid North American phone number"],
    ]  # fmt: skip
    missing = cli("campaign", "import", "--account", "999", str(source))
    assert missing.exit_code == 1 and "no account 999" in missing.output
    assert db.scalar(select(func.count()).select_from(Contact)) == 30


def test_an_empty_file_says_so(rt, account):
    with pytest.raises(BadFile, match="the file is empty"):
        run_import(rt, account, "")
