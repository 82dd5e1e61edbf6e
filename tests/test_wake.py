"""The dispatcher sleeps until there is work: a commit that makes work due wakes it at once, and
the slow poll still finds work whose wake-up was lost."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from loopstrat import outbox
from loopstrat.wake import CHANNEL, Waker
from tests import waiting
from tests.leads_helpers import post_lead
from workers import scheduler
from workers.queues import DEFAULT_QUEUE, queue

WAIT_S = 20.0  # a guard against hanging: far below the idle poll the wake-up must beat


def until(found: Callable[[], Any]) -> Any:
    return waiting.until(found, WAIT_S)


NEVER_S = 600.0


@pytest.fixture
def dispatcher(rt, monkeypatch) -> Iterator[Callable[[float], None]]:
    """The scheduler's loop in a thread; it polls for lost jobs never, unless told."""
    monkeypatch.setattr(scheduler, "LOST_SWEEP_S", NEVER_S)
    stopping = threading.Event()
    threads: list[threading.Thread] = []

    def start(idle_poll_s: float) -> None:
        thread = threading.Thread(target=scheduler.serve, args=(rt, stopping, idle_poll_s))
        thread.start()
        threads.append(thread)
        until(lambda: rt.redis.pubsub_numsub(CHANNEL)[0][1] >= 1)  # listening

    yield start
    stopping.set()
    rt.waker.publish_now()  # end its wait now
    for thread in threads:
        thread.join(WAIT_S)


def test_a_lead_wakes_the_sleeping_dispatcher(client, account, rt, dispatcher):
    dispatcher(NEVER_S)
    post_lead(client, account)
    assert until(lambda: queue(rt, DEFAULT_QUEUE).count) == 1  # its reply, queued at once


def test_a_lost_wake_up_is_made_up_by_the_slow_poll(client, account, rt, dispatcher, monkeypatch):
    monkeypatch.setattr(Waker, "publish_now", lambda self: False)  # Redis dropped it
    dispatcher(0.2)
    post_lead(client, account)
    assert until(lambda: queue(rt, DEFAULT_QUEUE).count) == 1  # queued all the same


def test_any_commit_that_makes_work_due_wakes_it(rt, account):
    listening = rt.redis.pubsub(ignore_subscribe_messages=True)
    listening.subscribe(CHANNEL)
    until(lambda: rt.redis.pubsub_numsub(CHANNEL)[0][1] >= 1)
    with rt.sessions() as session:
        outbox.schedule(session, account_id=account.id, kind="conversation_ai_turn", ref_id="7")
        assert listening.get_message(timeout=0.5) is None  # not before the commit
        session.commit()
    assert until(lambda: listening.get_message(timeout=0.1)) is not None
    listening.close()
