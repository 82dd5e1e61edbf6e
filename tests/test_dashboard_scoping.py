"""Every dashboard route, generated from the app's URL map so a new route cannot escape:
signed out it sends to the sign-in page; with another account's ids it answers 404."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from loopstrat.clock import utcnow
from loopstrat.dashboard import PUBLIC_ENDPOINTS
from loopstrat.dashboard.invites import create_invite
from loopstrat.models import Campaign, Invite, Message, User
from tests.conftest import make_account
from tests.dashboard_helpers import add_draft, csrf_token, make_user, signed_in_client
from tests.leads_helpers import post_lead
from tests.twilio_inbound import JANE


def _dashboard_rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint.startswith("dashboard.")]


def _theirs(client, rt, account, worker, db) -> dict[str, int]:
    """Ids of another account's records, one per kind of URL argument."""
    lead_id = post_lead(client, account).get_json()["lead_id"]
    worker()
    draft = add_draft(db, account, lead_id, "a draft", JANE)
    campaign = Campaign(account_id=account.id, kind="reactivation", name="Theirs", state="running")
    db.add(campaign)
    member = make_user(rt, account, email="staff@acme.example")
    admin = make_user(rt, account, email="boss@acme.example", role="admin")
    create_invite(db, account_id=account.id, created_by=admin.id, role="member")
    db.commit()
    invite_id = db.scalars(select(Invite.id)).one()
    return {"lead_id": lead_id, "draft_id": draft.id, "campaign_id": campaign.id,
            "action": "pause", "user_id": member.id, "invite_id": invite_id}  # fmt: skip


def test_every_page_needs_a_signed_in_user(app):
    client = app.test_client()
    token = csrf_token(client)  # a valid token: a view that skips sign-in cannot hide behind CSRF
    for rule in _dashboard_rules(app):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = rule.rule.replace("<int:", "<").replace("<lead_id>", "1").replace("<draft_id>", "1")
        url = url.replace("<campaign_id>", "1").replace("<action>", "pause")
        url = url.replace("<user_id>", "1").replace("<invite_id>", "1")
        assert "<" not in url, f"{rule.rule}: give its argument a value here"
        if "GET" in rule.methods:
            answer = client.get(url)
        else:
            answer = client.post(url, data={"csrf_token": token})
        assert answer.status_code == 302, (rule.rule, answer.status_code)
        assert answer.headers["Location"].startswith("/dashboard/sign-in"), rule.rule


@pytest.mark.parametrize("role", ["admin", "member"])
def test_another_accounts_ids_answer_404_on_every_route(
    app, client, rt, account, twilio, worker, clock, db, role
):
    ids = _theirs(client, rt, account, worker, db)
    other = make_account(rt, name="Other Co", twilio_number="+18015550222")
    stranger = signed_in_client(
        app.test_client(), make_user(rt, other, email="x@other.example", role=role)
    )
    token = csrf_token(stranger)
    checked = 0
    for rule in _dashboard_rules(app):
        if not rule.arguments or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        unknown = rule.arguments - ids.keys()
        assert not unknown, f"{rule.rule}: add another account's {unknown} to _theirs()"
        url = rule.build({name: ids[name] for name in rule.arguments})[1]
        for method in sorted(rule.methods & {"GET", "POST"}):
            answer = stranger.open(url, method=method, data={"csrf_token": token})
            assert answer.status_code == 404, (method, url, answer.status_code)
            checked += 1
    assert checked >= 7
    db.expire_all()
    assert db.get(Message, ids["draft_id"]).status == "draft"  # nothing was done to it
    assert db.get(Campaign, ids["campaign_id"]).state == "running"
    assert db.get(User, ids["user_id"]).removed_at is None
    assert db.get(Invite, ids["invite_id"]).expires_at > utcnow()
