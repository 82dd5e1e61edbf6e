"""One AI turn per burst of the lead's texts, after a quiet spell: sent (auto) or drafted (assist).

Keyed by the burst's last inbound text, so a re-run or a second job answers nothing twice.
Bounded: at most MAX_AI_TURNS per conversation, then a person. Never speaks while a person
owns the conversation, and gates before drafting (quiet hours defer, opt-out blocks).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loopstrat import outbox
from loopstrat.clock import utcnow
from loopstrat.compliance import REPLY, Block, Defer, may_text
from loopstrat.compliance.consent import recipient_of
from loopstrat.conversations.ai_draft import ASSISTANT, USER, Turn, as_turns, draft_turn
from loopstrat.conversations.alerts import hand_off_body, store_alert
from loopstrat.conversations.handoff import open_hand_off
from loopstrat.conversations.texts import cancel_drafts, send_stored, store_text
from loopstrat.conversations.view import UNSENT, lead_texts
from loopstrat.drafting.profile import BusinessProfile
from loopstrat.models import Account, Contact, Lead, Message
from loopstrat.outbox import Kind
from loopstrat.runtime import Runtime
from loopstrat.texts.kinds import TextKind

log = logging.getLogger(__name__)

MAX_AI_TURNS = 3
AI_MODES = ("auto", "assist")


@dataclass(frozen=True)
class Burst:
    """What the model needs, read before the (slow) model call so no session is held open."""

    last_in_id: int
    profile: BusinessProfile
    transcript: list[dict[str, str]]
    first_name: str | None
    holder: str | None
    mode: str


def take_ai_turn(rt: Runtime, lead_id: int) -> str:
    with rt.sessions() as session:
        burst, result, alert_id = _prepare(session, lead_id)
        session.commit()
    if alert_id is not None:
        send_stored(rt, alert_id)
    if burst is None:
        return result
    turn = draft_turn(
        rt.drafter,
        burst.profile,
        burst.transcript,
        first_name=burst.first_name,
        holder=burst.holder,
    )
    with rt.sessions() as session:
        ids, result = _record_turn(session, lead_id, burst, turn)
        session.commit()
    for message_id in ids:
        send_stored(rt, message_id)
    _count_turns(rt, lead_id)
    log.info("ai_turn lead_id=%s result=%s by=%s", lead_id, result, turn.drafted_by)
    return result


def _prepare(session: Session, lead_id: int) -> tuple[Burst | None, str, int | None]:
    """Decide whether a turn is due; finish, postpone or hand off (returning the alert's id)
    here when it is not."""
    ref = str(lead_id)
    lead = session.get(Lead, lead_id)
    if lead is None:
        outbox.finish(session, Kind.AI_TURN, ref, reason="missing")
        return None, "missing", None
    account = session.get_one(Account, lead.account_id)
    contact = session.get_one(Contact, lead.contact_id)
    not_now = _not_now(session, account, contact, lead, utcnow())
    if not_now is not None:
        return None, not_now, None
    every = lead_texts(session, account.id, lead.id)
    texts = [m for m in every if _seen_by_both(m)]
    if not texts or texts[-1].direction != "in" or _answered(every, texts[-1].id, lead.id):
        outbox.finish(session, Kind.AI_TURN, ref, reason="nothing_to_answer")
        return None, "nothing_to_answer", None
    if account.ai_mode == "auto" and lead.ai_turns >= MAX_AI_TURNS:
        alert_id = _hand_off(session, account, contact, lead, "turn_limit", texts[-1].body)
        outbox.finish(session, Kind.AI_TURN, ref, reason="turn_limit")
        return None, "turn_limit", alert_id
    return _burst(account, contact, lead, texts), "draft", None


def _not_now(
    session: Session, account: Account, contact: Contact, lead: Lead, now: datetime
) -> str | None:
    """Why no turn may be drafted now (the outbox row finished or postponed), or None."""
    ref = str(lead.id)
    if account.ai_mode not in AI_MODES or lead.owner != "ai" or lead.last_inbound_at is None:
        outbox.finish(session, Kind.AI_TURN, ref, state="cancelled", reason="not_ai")
        return "not_ai"
    quiet_until = lead.last_inbound_at + timedelta(seconds=account.ai_quiet_spell_s)
    if now < quiet_until:
        outbox.postpone(session, Kind.AI_TURN, ref, quiet_until)  # the lead is still typing
        return "waiting"
    decision = may_text(
        recipient=recipient_of(contact, account, lead.zip),
        purpose=REPLY,
        now=now,
        account_active=account.is_active,
    )
    if isinstance(decision, Defer):
        outbox.postpone(session, Kind.AI_TURN, ref, decision.until)
        return "deferred"
    if isinstance(decision, Block):
        outbox.finish(session, Kind.AI_TURN, ref, state="cancelled", reason=decision.reason)
        return "blocked"
    return None


def _answered(every: list[Message], last_in_id: int, lead_id: int) -> bool:
    """This burst already has its turn stored (its own outbox row sends it) or its draft."""
    keys = {f"lead-{lead_id}-ai-after-{last_in_id}", f"lead-{lead_id}-draft-after-{last_in_id}"}
    return any(m.idempotency_key in keys for m in every)


def _seen_by_both(msg: Message) -> bool:
    return msg.direction == "in" or (msg.status not in UNSENT and msg.kind != TextKind.HELP)


def _burst(account: Account, contact: Contact, lead: Lead, texts: list[Message]) -> Burst:
    said: list[tuple[str, str]] = []
    if lead.inquiry and lead.source != "sms":
        said.append((USER, f"(Their website inquiry) {lead.inquiry}"))
    said += [(USER if m.direction == "in" else ASSISTANT, m.body) for m in texts]
    return Burst(
        last_in_id=texts[-1].id,
        profile=BusinessProfile.of(account),
        transcript=as_turns(said),
        first_name=(contact.name or "").split(" ")[0] or None,
        holder=f"{account.owner_name} from {account.name}" if account.owner_name else None,
        mode=account.ai_mode,
    )


def _record_turn(session: Session, lead_id: int, burst: Burst, turn: Turn) -> tuple[list[int], str]:
    lead = session.get_one(Lead, lead_id)
    account = session.get_one(Account, lead.account_id)
    contact = session.get_one(Contact, lead.contact_id)
    if not _texted_since(session, account.id, lead_id, burst.last_in_id):
        # A text that came while Claude wrote has re-opened the row for the next burst.
        outbox.finish(session, Kind.AI_TURN, str(lead_id))
    if lead.owner != "ai" or contact.opted_out_at is not None:
        return [], "taken_over"  # a person replied, or the lead opted out, while Claude wrote
    ids: list[int] = []
    if burst.mode == "assist" and turn.body:
        _store_draft(session, account, contact, lead, burst, turn)
        open_hand_off(session, lead, "assist", utcnow(), silence_ai=False)
        return ids, "drafted"
    if turn.hand_off:
        last = session.get(Message, burst.last_in_id)
        alert = _hand_off(session, account, contact, lead, turn.hand_off, last.body if last else "")
        ids += [alert] if alert else []
    if turn.body:
        ids.append(_store_follow_up(session, account, contact, lead, burst, turn))
    return ids, turn.hand_off or "sent"


def _texted_since(session: Session, account_id: int, lead_id: int, message_id: int) -> bool:
    newer = session.scalar(
        select(Message.id)
        .where(
            Message.account_id == account_id,
            Message.lead_id == lead_id,
            Message.direction == "in",
            Message.kind != TextKind.CONTRACTOR_TEXT,  # the contractor's text is not the lead's
            Message.id > message_id,
        )
        .limit(1)
    )
    return newer is not None


def _hand_off(
    session: Session, account: Account, contact: Contact, lead: Lead, reason: str, last: str
) -> int | None:
    n = open_hand_off(session, lead, reason, utcnow(), silence_ai=True)
    body = hand_off_body(account, contact, lead, reason, last)
    alert = store_alert(
        session, key=f"lead-{lead.id}-handoff-{n}-alert", account=account, lead=lead, body=body
    )
    return alert.id if alert else None


def _store_follow_up(
    session: Session, account: Account, contact: Contact, lead: Lead, burst: Burst, turn: Turn
) -> int:
    return store_text(
        session,
        key=f"lead-{lead.id}-ai-after-{burst.last_in_id}",
        account=account,
        to=contact.phone,
        kind=TextKind.FOLLOW_UP,
        body=turn.body,
        drafted_by=turn.drafted_by,
        contact_id=contact.id,
        lead_id=lead.id,
        ai_tokens=turn.ai_tokens,
    ).id


def _store_draft(
    session: Session, account: Account, contact: Contact, lead: Lead, burst: Burst, turn: Turn
) -> None:
    """Assist: the turn waits in the dashboard for a person to send or edit (takeover.py)."""
    key = f"lead-{lead.id}-draft-after-{burst.last_in_id}"
    if session.scalar(select(Message.id).where(Message.idempotency_key == key)):
        return
    # The newer draft answers the whole burst, the older one's texts included.
    cancel_drafts(session, account.id, lead.id, reason="superseded")
    session.add(
        Message(
            idempotency_key=key,
            account_id=account.id,
            contact_id=contact.id,
            lead_id=lead.id,
            direction="out",
            kind=TextKind.FOLLOW_UP,
            to_phone=contact.phone,
            from_phone=account.twilio_number,
            body=turn.body,
            drafted_by=turn.drafted_by,
            status="draft",
            reason=turn.hand_off,
            ai_input_tokens=turn.ai_tokens[0] if turn.ai_tokens else None,
            ai_output_tokens=turn.ai_tokens[1] if turn.ai_tokens else None,
        )
    )


def _count_turns(rt: Runtime, lead_id: int) -> None:
    """Counted from the texts since a person last spoke (a hand-back starts a new budget), so
    a re-run job never counts a turn twice."""
    with rt.sessions() as session:
        lead = session.get_one(Lead, lead_id)
        query = (
            select(func.count())
            .select_from(Message)
            .where(
                Message.account_id == lead.account_id,
                Message.lead_id == lead_id,
                Message.kind == TextKind.FOLLOW_UP,
                Message.drafted_by.in_(("claude", "template")),
                Message.status.not_in(UNSENT),
            )
        )
        if lead.last_human_reply_at is not None:
            query = query.where(Message.created_at > lead.last_human_reply_at)
        lead.ai_turns = session.scalar(query) or 0
        session.commit()
