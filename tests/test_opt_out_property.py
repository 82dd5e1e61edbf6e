"""Property: whatever the interleaving of inbound texts, status callbacks, job runs, person's
replies, clock jumps and Twilio failures, once a lead opts out the only text they ever get
again is the one confirmation (until they opt back in, which these steps never do)."""

from __future__ import annotations

from datetime import timedelta

import responses
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loopstrat import runtime
from loopstrat.conversations.takeover import hand_back, reply_as_person
from tests.conftest import DAYTIME, _empty_tables, make_account
from tests.leads_helpers import LEAD
from tests.test_conversation_ai import TURN
from tests.twilio_api import FakeTwilio
from tests.twilio_inbound import JANE, inbound_params, post_inbound, status_callback
from workers.scheduler import dispatch_due

REPLIES = ["Tuesday works", "123 Main St", "How much?", "Can I talk to a person", "HELP"]
STOPS = ["STOP", "stop please", "Wrong number", "UNSUBSCRIBE", "please remove me", "End."]
STATUSES = ["sent", "delivered", "undelivered", "failed", "queued"]
CONFIRMATION = (
    "Acme Plumbing: You're unsubscribed and will get no more texts from us. "
    "Reply START to resubscribe."
)

actions = st.one_of(
    st.tuples(st.just("text"), st.sampled_from(REPLIES)),
    st.tuples(st.just("stop"), st.sampled_from(STOPS)),
    st.tuples(st.just("replay"), st.integers(0, 5)),
    st.tuples(st.just("status"), st.tuples(st.integers(0, 9), st.sampled_from(STATUSES))),
    st.tuples(st.just("work"), st.none()),
    st.tuples(st.just("tick"), st.integers(0, 900)),
    st.tuples(st.just("person"), st.sampled_from(["reply", "hand_back"])),
    st.tuples(st.just("fail"), st.sampled_from(["429", "500", "timeout_accepted", "timeout_lost"])),
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mode=st.sampled_from(["off", "assist", "auto"]), steps=st.lists(actions, max_size=14))
def test_after_an_opt_out_only_the_confirmation_is_sent(rt, app, worker, claude, mode, steps):
    current = runtime.current()
    _empty_tables(current)
    current.redis.flushdb()
    claude.reply(TURN)
    account = make_account(current, ai_mode=mode)
    client = app.test_client()
    with (
        time_machine.travel(DAYTIME, tick=False) as clock,
        responses.RequestsMock(assert_all_requests_are_fired=False) as mock,
    ):
        twilio = FakeTwilio(mock)
        twilio.install()
        lead_id = client.post(f"/leads/{account.form_key}", json=LEAD).get_json()["lead_id"]
        story = Story(client, account, lead_id, twilio, worker, clock)
        for action, arg in steps:
            story.run(action, arg)
        story.run("stop", "STOP")  # every story ends opted out
        story.settle()
    after = [m["body"] for m in twilio.created[story.opted_out_at :] if m["to"] == JANE]
    assert after == [CONFIRMATION]


class Story:
    def __init__(self, client, account, lead_id, twilio, worker, clock) -> None:
        self.client, self.account, self.lead_id = client, account, lead_id
        self.twilio, self.worker, self.clock = twilio, worker, clock
        self.sent_in: list[dict[str, str]] = []
        self.opted_out_at: int | None = None
        self.people = 0

    def run(self, action: str, arg) -> None:
        rt = runtime.current()
        if action in ("text", "stop"):
            if action == "stop" and self.opted_out_at is None:
                self.opted_out_at = len(self.twilio.created)  # effective in the webhook itself
            params = inbound_params(self.account.twilio_number, arg)
            self.sent_in.append(params)
            assert post_inbound(self.client, params).status_code == 200
        elif action == "replay" and self.sent_in:
            post_inbound(self.client, self.sent_in[arg % len(self.sent_in)])
        elif action == "status" and self.twilio.created:
            index, status = arg
            sid = self.twilio.created[index % len(self.twilio.created)]["sid"]
            assert status_callback(self.client, sid, status).status_code == 204
        elif action == "work":
            self.worker()
        elif action == "tick":
            self.clock.shift(timedelta(seconds=arg))
            dispatch_due(rt)
        elif action == "person":
            self._person(rt, arg)
        elif action == "fail":
            if arg.startswith("timeout"):
                self.twilio.time_out_next(after_accepting=arg == "timeout_accepted")
            else:
                self.twilio.fail_next(int(arg), 20000 + int(arg))

    def _person(self, rt, what: str) -> None:
        ids = {"account_id": self.account.id, "lead_id": self.lead_id}
        if what == "hand_back":
            hand_back(rt, **ids)
        else:
            self.people += 1
            reply_as_person(rt, **ids, body="Mike here.", request_key=str(self.people))

    def settle(self) -> None:
        """Every backoff, quiet spell, hand-off window and sweep runs out."""
        for _ in range(8):
            self.worker()
            self.clock.shift(timedelta(minutes=11))
            dispatch_due(runtime.current())
        self.worker()
