"""Admission as properties: over any counts and limits, who is answered, held or refused."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from loopstrat.leads.admission import (
    PERSON_POSTS_PER_MIN,
    STORE_FACTOR,
    Admission,
    IntakeLimits,
    admit,
    sender_of,
)

SEVERITY = {Admission.ANSWER: 0, Admission.HOLD: 1, Admission.REFUSE: 2}
limits = st.builds(IntakeLimits, st.integers(1, 500), st.integers(1, 5000))
posts = st.integers(1, 60_000)


@given(limits, posts, posts)
def test_under_both_limits_a_post_is_answered(lim, address_posts, form_posts):
    if address_posts <= lim.per_address_per_min and form_posts <= lim.per_form_per_min:
        assert admit(address_posts, form_posts, lim) is Admission.ANSWER


@given(limits, st.integers(1, PERSON_POSTS_PER_MIN), posts)
def test_an_address_posting_like_a_person_is_answered_however_flooded_the_form(
    lim, address_posts, form_posts
):
    if address_posts <= lim.per_address_per_min:
        assert admit(address_posts, form_posts, lim) is Admission.ANSWER


@given(limits, posts, posts)
def test_a_post_is_refused_only_past_ten_times_a_limit(lim, address_posts, form_posts):
    if admit(address_posts, form_posts, lim) is Admission.REFUSE:
        assert (
            address_posts > lim.per_address_per_min * STORE_FACTOR
            or form_posts > lim.per_form_per_min * STORE_FACTOR
        )


@given(limits, posts, posts)
def test_over_the_address_limit_a_post_is_never_answered(lim, address_posts, form_posts):
    if address_posts > lim.per_address_per_min:
        assert admit(address_posts, form_posts, lim) is not Admission.ANSWER


@given(limits, posts, posts, st.integers(0, 1000), st.integers(0, 1000))
def test_more_posts_never_make_the_answer_milder(lim, address_posts, form_posts, more_a, more_f):
    before = admit(address_posts, form_posts, lim)
    after = admit(address_posts + more_a, form_posts + more_f, lim)
    assert SEVERITY[after] >= SEVERITY[before]


def test_an_ipv6_sender_is_its_64_block_and_an_ipv4_sender_its_address():
    assert sender_of("2001:db8:1:2::5") == sender_of("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert sender_of("2001:db8:1:3::5") != sender_of("2001:db8:1:2::5")
    assert sender_of("203.0.113.7") == "203.0.113.7"
    assert sender_of(None) == "unknown"
