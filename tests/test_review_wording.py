"""Every text the product can send by template, and every campaign text, read for what review
sites and the FTC's rule on reviews (16 CFR 465) forbid: asking only satisfied customers
(review gating), routing by rating, or offering something for a review."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from loopstrat.campaigns import reviews
from loopstrat.conversations import ai_draft
from loopstrat.drafting.profile import BusinessProfile

SMS_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "sms"

FORBIDDEN = {
    "gating": r"\b(if|when) you (were|are|felt) (happy|satisfied|pleased)|\bhappy with\b|"
    r"\bsatisfied\b|\bhow did we do\b|\bhow was your (experience|service)\b|\bnot happy\b|"
    r"\bunhappy\b|\blet us know first\b|\bcontact us instead\b",
    "rating": r"\b(rate|rating|rated)\b|\b[1-5] ?(stars?|-star)\b|\bfive stars?\b|\b1 ?- ?5\b|"
    r"\bout of (5|five|10|ten)\b",
    "reward": r"\b(discount|coupon|gift ?card|reward|prize|raffle|drawing|giveaway|free|% off|"
    r"\$\d+ off|credit|in exchange|in return)\b",
}


def product_texts() -> dict[str, str]:
    texts = {f"templates/sms/{p.name}": p.read_text() for p in SMS_TEMPLATES.glob("*.txt")}
    texts |= {f"campaigns.reviews.TEXTS[{kind}]": body for kind, body in reviews.TEXTS.items()}
    return texts


@pytest.mark.parametrize("rule", sorted(FORBIDDEN))
def test_no_product_text_gates_rates_or_rewards_a_review(rule):
    pattern = re.compile(FORBIDDEN[rule], re.IGNORECASE)
    found = {
        name: m.group(0) for name, body in product_texts().items() if (m := pattern.search(body))
    }
    assert found == {}


def test_the_rules_catch_what_they_are_for():
    # The patterns above must see the wordings they exist for, or the test above proves nothing.
    samples = {
        "gating": "If you were happy with our work, leave us a review!",
        "rating": "How would you rate us from 1-5?",
        "reward": "Leave a review and get 10% off, or a $20 gift card.",
    }
    for rule, sample in samples.items():
        assert re.search(FORBIDDEN[rule], sample, re.IGNORECASE), rule


def test_the_conversation_ai_is_told_never_to_write_a_review_or_reward_one():
    profile = BusinessProfile(
        name="Acme Plumbing", trade="plumbing", service_zips=("84101",), hours="Mon-Fri",
        tone="friendly", never_promise="prices", website=None,
    )  # fmt: skip
    prompt = ai_draft.follow_up_system_prompt(profile)
    assert "Never write or suggest the words of a review" in prompt
    assert "never offer anything for one" in prompt
