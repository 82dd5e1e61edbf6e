"""Property: whatever the interleaving of duplicate posts, re-enqueued jobs, worker runs,
scheduler ticks, clock jumps and Twilio failures, no lead is texted twice, every text Twilio
accepted is on record, and a lead goes untexted only when its attempts truly ran out."""

from __future__ import annotations

from datetime import timedelta

import responses
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from loopstrat.models import Lead, Message, Outbox
from tests.conftest import DAYTIME, _empty_tables, make_account
from tests.leads_helpers import LEAD
from tests.twilio_api import FakeTwilio
from workers.queues import enqueue_outbox
from workers.scheduler import dispatch_due

PHONES = ["801-555-0142", "801-555-0143", "385-555-0144"]

actions = st.one_of(
    st.tuples(st.just("post"), st.sampled_from(PHONES)),
    st.tuples(st.just("enqueue"), st.integers(0, 2)),
    st.tuples(st.just("work"), st.none()),
    st.tuples(st.just("tick"), st.integers(0, 400)),
    st.tuples(
        st.just("fail"),
        st.sampled_from(["429", "500", "timeout_accepted", "timeout_lost"]),
    ),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(actions, max_size=14))
def test_each_lead_is_texted_exactly_once(rt, app, worker, steps):
    _empty_tables(rt)
    rt.redis.flushdb()
    account = make_account(rt)
    client = app.test_client()
    with (
        time_machine.travel(DAYTIME, tick=False) as clock,
        responses.RequestsMock(assert_all_requests_are_fired=False) as mock,
    ):
        twilio = FakeTwilio(mock)
        twilio.install()
        lead_ids: list[int] = []
        for action, arg in steps:
            run_step(rt, client, account, twilio, worker, clock, lead_ids, action, arg)
        settle(rt, worker, clock)
        assert texting_problems(rt, twilio) == []


def run_step(rt, client, account, twilio, worker, clock, lead_ids, action, arg) -> None:
    if action == "post":
        answer = client.post(f"/leads/{account.form_key}", json={**LEAD, "phone": arg})
        assert answer.status_code == 202
        lead_ids.append(answer.get_json()["lead_id"])
    elif action == "enqueue" and lead_ids:
        enqueue_outbox(rt, "respond_to_lead", str(lead_ids[arg % len(lead_ids)]))
    elif action == "work":
        worker()
    elif action == "tick":
        clock.shift(timedelta(seconds=arg))
        dispatch_due(rt)
    elif action == "fail":
        if arg.startswith("timeout"):
            twilio.time_out_next(after_accepting=arg == "timeout_accepted")
        else:
            twilio.fail_next(int(arg), 20000 + int(arg))


def settle(rt, worker, clock) -> None:
    """Let every backoff and sweep run out: the end state of a long quiet afternoon."""
    for _ in range(8):
        worker()
        clock.shift(timedelta(minutes=11))
        dispatch_due(rt)
    worker()


def texting_problems(rt, twilio: FakeTwilio) -> list[str]:
    """Every way the texts Twilio took and the rows on record break exactly-once."""
    with rt.sessions() as session:
        leads = session.scalars(select(Lead)).all()
        messages = session.scalars(select(Message).where(Message.direction == "out")).all()
        outbox_rows = {row.ref_id: row for row in session.scalars(select(Outbox))}
    by_lead = {m.lead_id: m for m in messages}
    accepted = [m["sid"] for m in twilio.created]
    problems = []
    if len(by_lead) != len(messages):
        problems.append("two first replies for one lead")
    if len(accepted) > len(leads):
        problems.append("Twilio got more texts than there are leads")
    if set(accepted) != {m.twilio_sid for m in messages if m.twilio_sid}:
        problems.append(
            "a text Twilio accepted is not on record, or a recorded sid is not Twilio's"
        )
    for lead in leads:
        if lead.id not in by_lead:
            problems.append(f"lead {lead.id} has no first reply on record")
            continue
        sid = by_lead[lead.id].twilio_sid
        if lead.response_state == "responded":
            if sid not in accepted:
                problems.append(f"lead {lead.id} responded but Twilio never took its text")
        # Only a run of Twilio failures longer than the retry schedule leaves a lead untexted,
        # and then it says so.
        elif (
            lead.response_state != "failed"
            or outbox_rows[str(lead.id)].reason != "attempts_exhausted"
            or sid is not None
        ):
            problems.append(f"lead {lead.id} untexted but not given up: {lead.response_state}")
    return problems
