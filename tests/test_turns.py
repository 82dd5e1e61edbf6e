"""Whose turn it is (workers/turns.py), as properties over any backlog: never more than a
queue's room, no room left idle while work waits, and nobody ahead of a lower turn."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from loopstrat.outbox import Candidate
from workers.turns import next_turns

GROUPS = ("texts", "crm", "bulk")


@st.composite
def backlogs(draw: st.DrawFn) -> tuple[list[Candidate], dict[tuple[str, int], int], dict[str, int]]:
    due = draw(st.lists(st.tuples(st.sampled_from(GROUPS), st.integers(1, 6)), max_size=60))
    seen: dict[tuple[str, int], int] = {}
    candidates = []
    for row_id, (group, account) in enumerate(due, start=1):
        seen[(group, account)] = seen.get((group, account), 0) + 1
        candidates.append(Candidate(row_id, group, account, seen[(group, account)]))
    candidates.sort(key=lambda c: c.nth)  # as the outbox hands them: every account's first first
    flying = draw(st.dictionaries(st.tuples(st.sampled_from(GROUPS), st.integers(1, 6)),
                                  st.integers(0, 20)))  # fmt: skip
    rooms = draw(st.fixed_dictionaries({group: st.integers(0, 20) for group in GROUPS}))
    return candidates, flying, rooms


def turn(c: Candidate, flying: dict[tuple[str, int], int]) -> int:
    return flying.get((c.group, c.account_id), 0) + c.nth


@given(backlogs())
def test_no_queue_is_handed_more_than_its_room_and_none_is_left_idle(backlog) -> None:
    candidates, flying, rooms = backlog
    chosen = set(next_turns(candidates, flying, rooms))
    for group in GROUPS:
        waiting = [c for c in candidates if c.group == group]
        taken = [c for c in waiting if c.id in chosen]
        assert len(taken) == min(rooms[group], len(waiting))  # work-conserving, bounded


@given(backlogs())
def test_nobody_goes_before_a_lower_turn_and_an_account_goes_oldest_first(backlog) -> None:
    candidates, flying, rooms = backlog
    chosen = set(next_turns(candidates, flying, rooms))
    for c in candidates:
        for later in candidates:
            if c.group == later.group and later.id in chosen and c.id not in chosen:
                assert turn(later, flying) <= turn(c, flying)
                if later.account_id == c.account_id:
                    assert later.nth < c.nth
