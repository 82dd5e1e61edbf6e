"""Whose work goes next: the dispatcher's fair share of free worker processes. Pure.

Each queue has a room: how many more jobs it may be handed now. texts gets the processes no
texts job holds (jobs in flight are the outbox's standing claims, counted in the same database
the claims are made in, so two quick hand-outs never count one free process twice; a process
running a crm or bulk job is as good as free, since workers take texts first and those jobs
are short); crm and bulk what their limits leave. Within a room, the account with the fewest
jobs in flight goes first, and an account's due rows go oldest first: one account's burst
takes every idle process while nobody else is waiting (work-conserving), and another
account's lead takes the next process that comes free (fair).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from loopstrat.outbox import Candidate
from workers.queues import BULK_QUEUE, CRM_QUEUE, CRM_SLOTS, DEFAULT_QUEUE, Capacity


def rooms(capacity: Capacity, in_flight: Mapping[tuple[str, int], int]) -> dict[str, int]:
    """How many more jobs each queue may be handed now, given the jobs in flight by (queue,
    account)."""
    flying = {name: 0 for name in (DEFAULT_QUEUE, CRM_QUEUE, BULK_QUEUE)}
    for (name, _account), n in in_flight.items():
        flying[name] = flying.get(name, 0) + n
    return {
        DEFAULT_QUEUE: max(0, capacity.texts_processes - flying[DEFAULT_QUEUE]),
        CRM_QUEUE: max(0, CRM_SLOTS - flying[CRM_QUEUE]),
        BULK_QUEUE: max(0, capacity.bulk_in_flight - flying[BULK_QUEUE]),
    }


def next_turns(
    candidates: Sequence[Candidate],
    in_flight: Mapping[tuple[str, int], int],
    rooms: Mapping[str, int],
) -> list[int]:
    """The ids of the candidates to hand out now. An account's nth due row waits behind the
    jobs it already has in flight: its turn is their count plus n; lower turns go first, and
    among equal turns the order the candidates came in (every account's oldest first)."""

    def turn(candidate: Candidate) -> int:
        return in_flight.get((candidate.group, candidate.account_id), 0) + candidate.nth

    chosen: list[int] = []
    left = dict(rooms)
    for candidate in sorted(candidates, key=turn):  # sorted() is stable
        if left.get(candidate.group, 0) > 0:
            left[candidate.group] -= 1
            chosen.append(candidate.id)
    return chosen
