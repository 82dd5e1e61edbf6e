"""One set of checks for every text the product composes (loopstrat/texts/checks.py): Claude's
drafts, filled templates, review requests, offers and the alerts' fixed words; and offers that
a weaker second copy of the checks once let through."""

from __future__ import annotations

import pytest

from loopstrat.campaigns import reactivation, reviews
from loopstrat.conversations import alerts
from loopstrat.conversations.keywords import OPT_IN, OPT_OUT
from loopstrat.drafting.profile import BusinessProfile
from loopstrat.models import Account
from loopstrat.texts.checks import Problem, host_of, says_how_to_opt_out, text_problems

PROFILE = BusinessProfile(
    "Acme Plumbing", "plumbing", (), "", "", "", "acmeplumbing.com", "+18015550111"
)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Acme Plumbing: see acmeplumbing.com or https://bit.ly/x9 Reply STOP", "foreign_link"),
        ("Acme Plumbing: deals at acmeplumbing.com.evil.example. Reply STOP", "foreign_link"),
        ("Acme Plumbing: pay at acmeplumbing.com@evil.example Reply STOP", "foreign_link"),
        ("Acme Plumbing: tinyurl.com/abc for 20% off. Reply STOP to opt out", "foreign_link"),
        ("Acme Plumbing: Do not stop by without calling!", "no_opt_out"),
        ("Hi, come back soon. Reply STOP to opt out.", "no_business"),
        ("Acme Plumbing: call 801-555-0177 today. Reply STOP to opt out.", "foreign_phone"),
    ],
)
def test_a_text_the_old_campaign_checks_let_through_is_refused(text, problem):
    assert problem in text_problems(text, PROFILE, duties=True, sales_words=False)


@pytest.mark.parametrize(
    "text",
    [
        "Acme Plumbing: 20% off a tune-up at https://acmeplumbing.com/deal. Reply STOP to opt out.",
        "Acme Plumbing: see www.acmeplumbing.com or call (801) 555-0111. Text STOP to opt out.",
    ],
)
def test_the_business_own_link_and_number_pass(text):
    assert text_problems(text, PROFILE, duties=True, sales_words=False) == []


def test_the_opt_out_is_an_instruction_not_the_word():
    assert says_how_to_opt_out("Reply STOP to opt out.")
    assert says_how_to_opt_out('text "stop" to end')
    assert not says_how_to_opt_out("Don't stop believing.")


def test_campaign_edit_refuses_what_every_composed_text_is_refused_for(rt, account):
    with rt.sessions() as session:
        acct = session.get_one(Account, account.id)
        made = reactivation.create_campaign(
            session, None, acct, name="x", brief="a deal", audience=reactivation.Audience(12, 30)
        )
        for body in (
            "Hi {first_name}, {business}: see acmeplumbing.com or https://bit.ly/x9 Reply STOP",
            "Hi {first_name}, {business} here. Do not stop by without calling.",
        ):
            with pytest.raises(reactivation.CampaignRefused):
                reactivation.edit_template(session, made, body)


def test_the_review_requests_pass_with_the_tracked_link(rt):
    tracked = f"{rt.settings.public_base_url.rstrip('/')}/r/AbCdEf0123456789AbCdEf"
    for kind, body in reviews.TEXTS.items():
        filled = body.format(first_name="Christopher", business=PROFILE.name, link=tracked)
        also = (host_of(rt.settings.public_base_url) or "",)
        assert text_problems(filled, PROFILE, duties=True, also_links_to=also) == [], kind
        assert Problem.FOREIGN_LINK in text_problems(filled, PROFILE, duties=True), kind


def test_the_alerts_fixed_words_pass(account):
    fixed = [alerts.alerts_keyword_body(account, word) for word in (OPT_OUT, OPT_IN, "HELP")]
    fixed += [alerts.unrouted_body(problem, "12") for problem in alerts.UNROUTED_WORDS]
    for body in fixed:
        assert text_problems(body, PROFILE) == [], body
