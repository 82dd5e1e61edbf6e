"""POST /leads/<form_key>: every way a form, Zapier or a bot can post, and every answer."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from loopstrat.db import make_engine
from loopstrat.models import ConsentEvent, Contact, Lead, Outbox
from tests.leads_helpers import LEAD, post_lead
from workers.scheduler import dispatch_due


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_browser_form_post_redirects_to_the_thank_you_page(client, account, db):
    response = client.post(f"/leads/{account.form_key}", data=LEAD)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/leads/{account.form_key}/thanks")
    assert count(db, Lead) == 1
    thanks = client.get(response.headers["Location"])
    assert b"Acme Plumbing" in thanks.data


def test_form_post_goes_to_the_accounts_own_thank_you_url(client, rt, db):
    from tests.conftest import make_account

    account = make_account(rt, thank_you_url="https://acmeplumbing.com/thanks")
    response = client.post(f"/leads/{account.form_key}", data=LEAD)
    assert response.status_code == 303
    assert response.headers["Location"] == "https://acmeplumbing.com/thanks"


def test_multipart_form_post_is_accepted(client, account, db):
    response = client.post(
        f"/leads/{account.form_key}", data=LEAD, content_type="multipart/form-data"
    )
    assert response.status_code == 303
    assert db.scalars(select(Contact)).one().phone == "+18015550142"


def test_zapier_style_form_post_asking_for_json_gets_202(client, account):
    response = client.post(
        f"/leads/{account.form_key}", data=LEAD, headers={"Accept": "application/json"}
    )
    assert response.status_code == 202
    assert isinstance(response.get_json()["lead_id"], int)


@pytest.mark.parametrize(
    ("phone", "e164"),
    [
        ("801-555-0142", "+18015550142"),
        ("+1 (671) 555-0142", "+16715550142"),  # Guam
        ("787 555 0142", "+17875550142"),  # Puerto Rico
        ("416.555.0142", "+14165550142"),  # Toronto
    ],
)
def test_any_north_american_number_is_normalised_to_e164(client, account, db, phone, e164):
    response = post_lead(client, account, {**LEAD, "phone": phone})
    assert response.status_code == 202
    assert db.scalars(select(Contact)).one().phone == e164


def test_bad_fields_are_each_named_and_nothing_is_stored(client, account, db):
    bad = {
        "phone": "+44 20 7946 0958",
        "email": "not-an-email",
        "zip": "8410",
        "message": "x" * 2001,
        "name": "n" * 121,
    }
    response = post_lead(client, account, {**LEAD, **bad})
    assert response.status_code == 400
    errors = response.get_json()["errors"]
    assert set(errors) == {"phone", "email", "zip", "message", "name"}
    assert "North American" in errors["phone"]
    assert count(db, Lead) == 0 and count(db, Contact) == 0


@pytest.mark.parametrize("phone", ["", "12345", "555-0142", "call me"])
def test_missing_or_invalid_phone_is_a_400(client, account, phone):
    response = post_lead(client, account, {**LEAD, "phone": phone})
    assert response.status_code == 400
    assert "phone" in response.get_json()["errors"]


def test_browser_form_errors_are_an_html_page_naming_the_field(client, account):
    response = client.post(f"/leads/{account.form_key}", data={**LEAD, "phone": "nope"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert b"phone" in response.data
    assert b"javascript:" not in response.data  # the page's CSP would block such a link
    back = client.post(
        f"/leads/{account.form_key}",
        data={**LEAD, "phone": "nope"},
        headers={"Referer": "https://acmeplumbing.com/contact"},
    )
    assert b'<a href="https://acmeplumbing.com/contact">Go back</a>' in back.data


def test_json_that_is_not_an_object_is_a_400(client, account):
    response = client.post(
        f"/leads/{account.form_key}", data="[1, 2]", content_type="application/json"
    )
    assert response.status_code == 400


def test_unknown_form_key_is_a_404(client, account, db):
    response = client.post("/leads/no-such-key", json=LEAD)
    assert response.status_code == 404
    assert count(db, Lead) == 0


def test_other_content_types_are_a_415(client, account, db):
    response = client.post(
        f"/leads/{account.form_key}", data="phone=8015550142", content_type="text/plain"
    )
    assert response.status_code == 415
    assert count(db, Lead) == 0


def test_oversized_body_is_a_413(client, account, db):
    huge = {**LEAD, "message": "x" * (70 * 1024)}
    response = post_lead(client, account, huge)
    assert response.status_code == 413
    assert count(db, Lead) == 0


def test_oversized_form_body_without_trusting_content_length_is_a_413(client, account, db):
    response = client.post(
        f"/leads/{account.form_key}",
        data={**LEAD, "message": "x" * (70 * 1024)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert count(db, Lead) == 0


def test_over_the_per_ip_limit_posts_are_stored_and_held_not_refused(
    client, account, reconfigure, db, clock
):
    reconfigure(intake_rate_per_ip_per_min=2)
    one = {"REMOTE_ADDR": "198.51.100.1"}
    other = {"REMOTE_ADDR": "198.51.100.2"}
    answers = [
        post_lead(client, account, {**LEAD, "phone": f"80155502{i:02d}"}, environ_base=one)
        for i in range(3)
    ]
    assert [a.status_code for a in answers] == [202, 202, 202]
    assert post_lead(client, account, environ_base=other).status_code == 202
    states = [db.get(Lead, a.get_json()["lead_id"]).response_state for a in answers]
    assert states == ["pending", "pending", "held"]
    assert count(db, Lead) == 4


def test_far_over_the_limit_a_post_is_refused_with_retry_after_and_not_stored(
    client, account, reconfigure, db, clock
):
    from loopstrat.leads.admission import STORE_FACTOR

    reconfigure(intake_rate_per_ip_per_min=2)
    ceiling = 2 * STORE_FACTOR
    bodies = [{**LEAD, "phone": f"80155503{i:02d}"} for i in range(ceiling + 2)]
    answers = [post_lead(client, account, body) for body in bodies]
    assert [a.status_code for a in answers] == [202] * ceiling + [429, 429]
    assert 0 < int(answers[-1].headers["Retry-After"]) <= 60
    assert count(db, Lead) == ceiling


def test_honeypot_drops_bots_quietly(client, account, db, twilio, worker):
    response = post_lead(client, account, {**LEAD, "hp_website": "http://spam.example"})
    assert response.status_code == 202
    assert response.get_json()["lead_id"] is None
    worker()
    assert count(db, Lead) == 0 and count(db, Contact) == 0
    assert twilio.created == []


def test_same_phone_within_ten_minutes_updates_the_open_lead(client, account, db, clock):
    first = post_lead(client, account).get_json()["lead_id"]
    clock.shift(timedelta(minutes=9))
    second = post_lead(
        client, account, {**LEAD, "message": "Also the kitchen sink drips"}
    ).get_json()["lead_id"]
    assert first == second
    lead = db.get(Lead, first)
    assert "water heater" in lead.inquiry and "kitchen sink" in lead.inquiry
    assert count(db, Lead) == 1


def test_same_phone_after_ten_minutes_is_a_new_lead(client, account, db, clock):
    first = post_lead(client, account).get_json()["lead_id"]
    clock.shift(timedelta(minutes=11))
    second = post_lead(client, account).get_json()["lead_id"]
    assert first != second
    assert count(db, Contact) == 1


def test_lead_is_stored_when_redis_is_down_and_dispatched_later(
    client, account, rt, reconfigure, db, twilio, worker, clock
):
    down = reconfigure(redis_url="redis://127.0.0.1:6390/0")  # nothing listens there
    from loopstrat.app import create_app

    response = create_app(down.settings).test_client().post(f"/leads/{account.form_key}", json=LEAD)
    assert response.status_code == 202
    lead_id = response.get_json()["lead_id"]
    row = db.scalars(select(Outbox)).one()
    assert row.ref_id == str(lead_id) and row.enqueued_at is None

    up = reconfigure(redis_url=rt.settings.redis_url)
    assert dispatch_due(up) == 1
    worker()
    assert len(twilio.created) == 1
    db.expire_all()
    assert db.get(Lead, lead_id).response_state == "responded"


def test_a_lead_posted_after_the_database_dropped_its_connections_is_stored(
    client, account, rt, db
):
    """A PostgreSQL restart (or an idle timeout) ends every pooled connection; the pool sees
    that at checkout, without a ping per post, and the next post opens a new one."""
    if rt.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to drop a connection")
    assert client.post(f"/leads/{account.form_key}", json=LEAD).status_code == 202
    db.commit()
    killer = make_engine(rt.settings.database_url)
    with killer.begin() as conn:
        ended = conn.execute(
            text(
                # With a timeout it returns once each backend has exited (PostgreSQL 14+): the
                # post below must meet a connection already dropped, not one being dropped.
                "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    killer.dispose()
    assert ended >= 1  # the web's pooled connection among them

    second = {**LEAD, "phone": "+12125550188"}
    response = client.post(f"/leads/{account.form_key}", json=second)

    assert response.status_code == 202
    assert count(db, Lead) == 2


def test_behind_a_proxy_the_client_ip_comes_from_x_forwarded_for(
    account, rt, reconfigure, db, clock
):
    from loopstrat.app import create_app
    from loopstrat.models import ConsentEvent

    proxied = reconfigure(trusted_proxy_hops=1, intake_rate_per_ip_per_min=1)
    client = create_app(proxied.settings).test_client()
    lb = {"REMOTE_ADDR": "10.0.0.5"}

    def post(ip: str, phone: str) -> str:
        headers = {"X-Forwarded-For": ip}
        body = {**LEAD, "phone": phone}
        lead_id = post_lead(client, account, body, headers=headers, environ_base=lb).get_json()
        return db.get(Lead, lead_id["lead_id"]).response_state

    assert post("203.0.113.7", "8015550101") == "pending"
    assert post("203.0.113.8", "8015550102") == "pending"  # another client behind the proxy
    assert post("203.0.113.7", "8015550103") == "held"  # over its own limit, not the proxy's
    ips = {e.ip for e in db.scalars(select(ConsentEvent))}
    assert ips == {"203.0.113.7", "203.0.113.8"}


@pytest.mark.parametrize("returning_customer", [False, True])
def test_simultaneous_posts_for_one_phone_make_one_lead(
    app, account, db, clock, returning_customer
):
    """A double-clicked submit button: both posts land at once, one lead comes of them."""
    if returning_customer:
        post_lead(app.test_client(), account)
        clock.shift(timedelta(minutes=30))
    barrier = threading.Barrier(4)

    def post(_: int) -> int:
        client = app.test_client()
        barrier.wait()
        return post_lead(client, account).get_json()["lead_id"]

    with ThreadPoolExecutor(4) as pool:
        ids = set(pool.map(post, range(4)))
    assert len(ids) == 1
    assert count(db, Contact) == 1
    assert count(db, Lead) == (2 if returning_customer else 1)


def test_the_optional_marketing_box_records_marketing_consent_and_its_evidence(client, account, db):
    post_lead(client, account)  # the inquiry box only
    both = {**LEAD, "phone": "+12125550199", "marketing_consent": "yes"}
    assert post_lead(client, account, both).status_code == 202
    jane, other = db.scalars(select(Contact).order_by(Contact.id)).all()
    assert jane.marketing_consent_at is None and jane.consent_at is not None
    assert other.marketing_consent_at is not None and other.follow_up_consent_at is not None
    kinds = db.scalars(
        select(ConsentEvent.kind)
        .where(ConsentEvent.contact_id == other.id)
        .order_by(ConsentEvent.id)
    ).all()
    assert kinds == ["inquiry", "marketing"]
    marketing = db.scalars(select(ConsentEvent).where(ConsentEvent.kind == "marketing")).one()
    assert marketing.text_shown.startswith("Also text me occasional offers.")
    assert marketing.scope == "marketing"


def test_a_post_after_the_job_was_marked_completed_is_a_new_lead(client, account, rt, db, clock):
    from loopstrat.leads.outcome import mark_lead

    first = post_lead(client, account).get_json()["lead_id"]
    mark_lead(rt, account_id=account.id, lead_id=first, status="completed")
    clock.shift(timedelta(minutes=3))
    again = post_lead(client, account, {**LEAD, "message": "Another job: the toilet"})
    assert again.get_json()["lead_id"] != first
    assert count(db, Lead) == 2
