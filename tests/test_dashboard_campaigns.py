"""The dashboard's side of review requests: the review settings, the completed button saying
what it planned, and the campaigns page with the account's own figures only."""

from __future__ import annotations

from datetime import timedelta

from loopstrat.models import Account, Campaign
from tests.conftest import make_account
from tests.dashboard_helpers import csrf_token, make_user, signed_in_client
from tests.leads_helpers import LEAD, post_lead
from tests.test_review_requests import REVIEW_PAGE


def _post(client, path, **form):
    token = csrf_token(client)  # from the sign-in form: a dashboard page would eat the flash
    return client.post(path, data={"csrf_token": token, **form})


def test_review_settings_are_checked_then_saved(app, rt, account, db):
    owner = signed_in_client(app.test_client(), make_user(rt, account))
    bad = _post(owner, "/dashboard/settings/reviews", review_link="javascript:alert(1)",
                review_delay_minutes="120", review_cooldown_days="0")  # fmt: skip
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "Review link: a web address starting with https:// or http://" in page
    assert "Ask the same person at most once in (days): a whole number from 1 to 730" in page
    good = _post(owner, "/dashboard/settings/reviews", review_link=REVIEW_PAGE,
                 review_delay_minutes="60", review_cooldown_days="90")  # fmt: skip
    assert good.status_code == 302
    db.expire_all()
    saved = db.get(Account, account.id)
    assert (saved.review_link, saved.review_delay_minutes) == (REVIEW_PAGE, 60)
    assert "Saved: review link, review delay." in owner.get("/dashboard/settings").get_data(
        as_text=True
    )


def test_marking_a_job_completed_says_when_its_review_request_goes_and_the_page_counts_it(
    app, client, rt, account, twilio, worker, clock, db
):
    lead_id = post_lead(client, account).get_json()["lead_id"]
    worker()
    owner = signed_in_client(app.test_client(), make_user(rt, account))
    _post(owner, f"/dashboard/leads/{lead_id}/mark", status="completed")
    assert "no review link is set (Settings" in owner.get(f"/dashboard/leads/{lead_id}").get_data(
        as_text=True
    )
    assert "Review requests are off until you set your review link" in owner.get(
        "/dashboard/campaigns"
    ).get_data(as_text=True)

    _post(owner, "/dashboard/settings/reviews", review_link=REVIEW_PAGE,
          review_delay_minutes="120", review_cooldown_days="90")  # fmt: skip
    kim = post_lead(client, account, {**LEAD, "phone": "(801) 555-0143", "name": "Kim"})
    worker()
    _post(owner, f"/dashboard/leads/{kim.get_json()['lead_id']}/mark", status="completed")
    page = owner.get(f"/dashboard/leads/{kim.get_json()['lead_id']}").get_data(as_text=True)
    assert "Marked completed. Review request planned for Nov 25 13:00 MST." in page
    clock.shift(timedelta(hours=3))
    worker()

    campaigns = owner.get("/dashboard/campaigns").get_data(as_text=True)
    assert "<h2>Review requests" in campaigns
    assert '<th scope="row">Texted</th><td>1</td>' in campaigns

    other = make_account(rt, name="Other Co", twilio_number="+18015550222")
    stranger = signed_in_client(app.test_client(), make_user(rt, other, email="x@other.example"))
    theirs = stranger.get("/dashboard/campaigns").get_data(as_text=True)
    assert "No campaigns yet." in theirs and "<h2>Review requests" not in theirs


def test_an_admin_pauses_resumes_and_cancels_a_reactivation_and_a_member_cannot(
    app, rt, account, twilio, worker, clock, db
):
    from tests.test_reactivation import import_old_customers, launch, make_campaign

    import_old_customers(rt, account, 40)
    campaign_id = make_campaign(rt, account, holdout=10, sends_per_second=1.0)
    launch(rt, campaign_id)
    owner = signed_in_client(app.test_client(), make_user(rt, account))
    member = signed_in_client(
        app.test_client(), make_user(rt, account, email="m@example.com", role="member")
    )
    page = member.get("/dashboard/campaigns").get_data(as_text=True)
    assert "Fall tune-up" in page and ">Pause</button>" not in page
    assert _post(member, f"/dashboard/campaigns/{campaign_id}/pause").status_code == 404

    assert ">Pause</button>" in owner.get("/dashboard/campaigns").get_data(as_text=True)
    _post(owner, f"/dashboard/campaigns/{campaign_id}/pause")
    page = owner.get("/dashboard/campaigns").get_data(as_text=True)
    assert "Fall tune-up: paused." in page and "Paused: paused from the dashboard" in page
    _post(owner, f"/dashboard/campaigns/{campaign_id}/pause")
    assert "Not done: the campaign is paused: only a running one pauses." in owner.get(
        "/dashboard/campaigns"
    ).get_data(as_text=True)
    _post(owner, f"/dashboard/campaigns/{campaign_id}/resume")
    _post(owner, f"/dashboard/campaigns/{campaign_id}/cancel")
    db.expire_all()
    assert db.get(Campaign, campaign_id).state == "cancelled"
    assert _post(owner, f"/dashboard/campaigns/{campaign_id}/explode").status_code == 404
    assert "too few contacts to tell" in owner.get("/dashboard/campaigns").get_data(as_text=True)


def test_a_draft_shows_whom_it_would_reach_and_an_admin_launches_it(
    app, rt, account, twilio, worker, clock, db
):
    from tests.test_reactivation import import_old_customers, make_campaign

    import_old_customers(rt, account, 12)
    campaign_id = make_campaign(rt, account, holdout=10)
    owner = signed_in_client(app.test_client(), make_user(rt, account))
    page = owner.get("/dashboard/campaigns").get_data(as_text=True)
    assert "Launched now, it would reach 12 contacts, about 10% of them held back" in page
    assert ">Launch</button>" in page
    _post(owner, f"/dashboard/campaigns/{campaign_id}/launch")
    db.expire_all()
    assert db.get(Campaign, campaign_id).state == "running"
    page = owner.get("/dashboard/campaigns").get_data(as_text=True)
    assert "Fall tune-up: running." in page and ">Launch</button>" not in page
