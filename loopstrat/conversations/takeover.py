"""Take-over: a person replies (the AI falls silent), sends or edits an AI draft, or hands back.

Called by the CLI now and the dashboard later. Every lookup is scoped by the caller's account;
every text is stored and sent through texts.send_stored (gated, exactly once).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from loopstrat import outbox
from loopstrat.clock import utcnow
from loopstrat.conversations.texts import cancel_drafts, is_first_text_to, send_stored, store_text
from loopstrat.models import Account, Contact, Lead, Message
from loopstrat.outbox import Kind
from loopstrat.runtime import Runtime
from loopstrat.sms.outbound import Outcome
from loopstrat.texts.checks import with_first_message_duties
from loopstrat.texts.kinds import TextKind

MAX_BODY_CHARS = 1000


class TakeoverError(ValueError):
    """The request cannot be done as asked; the message says why, for the person."""


def reply_as_person(
    rt: Runtime, *, account_id: int, lead_id: int, body: str, request_key: str
) -> Outcome | None:
    """A person's own words to the lead. The conversation is theirs from now on."""
    body = body.strip()
    if not body or len(body) > MAX_BODY_CHARS:
        raise TakeoverError(f"the reply must be 1 to {MAX_BODY_CHARS} characters")
    with rt.sessions() as session:
        account, contact, lead = _scoped(session, account_id, lead_id)
        msg = store_text(
            session,
            key=f"lead-{lead.id}-human-{request_key}",
            account=account,
            to=contact.phone,
            kind=TextKind.HUMAN_REPLY,
            body=body,
            drafted_by="person",
            contact_id=contact.id,
            lead_id=lead.id,
        )
        lead.owner, lead.last_human_reply_at = "human", utcnow()
        outbox.finish(session, Kind.AI_TURN, str(lead.id), "cancelled", "human_took_over")
        # A first reply held for the morning would now be a second text: it is told at once.
        outbox.hurry(session, Kind.RESPOND_TO_LEAD, str(lead.id))
        cancel_drafts(session, account.id, lead.id, reason="human_took_over")
        session.commit()
        message_id = msg.id
    return send_stored(rt, message_id)


def send_draft(
    rt: Runtime, *, account_id: int, lead_id: int, draft_id: int, body: str | None = None
) -> Outcome | None:
    """Assist mode: a person sends the AI's draft as it is, or edited (then it is theirs)."""
    with rt.sessions() as session:
        account, contact, lead = _scoped(session, account_id, lead_id)
        draft = session.scalar(
            select(Message).where(
                Message.id == draft_id,
                Message.account_id == account_id,
                Message.lead_id == lead.id,
                Message.kind == TextKind.FOLLOW_UP,
            )
        )
        if draft is None:
            raise TakeoverError(f"lead {lead_id} has no draft {draft_id}")
        if draft.status == "cancelled":
            raise TakeoverError(f"draft {draft_id} was cancelled ({draft.reason})")
        edited = (body or "").strip()
        words = edited or draft.body
        if is_first_text_to(session, account.id, contact.phone):
            words = with_first_message_duties(words, account.name)
        swapped = session.execute(
            update(Message)
            .where(Message.id == draft.id, Message.status == "draft")
            .values(
                status="deferred",
                reason="queued",
                scheduled_for=utcnow(),
                body=words,
                drafted_by="person" if edited and edited != draft.body else draft.drafted_by,
            )
        )
        if swapped.rowcount == 1:  # type: ignore[attr-defined]
            outbox.schedule(
                session,
                account_id=account_id,
                kind=Kind.CONVERSATION_TEXT,
                ref_id=str(draft.id),
                run_now=True,
            )
            lead.last_human_reply_at = utcnow()
        session.commit()
    return send_stored(rt, draft_id)


def take_over(rt: Runtime, *, account_id: int, lead_id: int) -> None:
    """A person has the conversation before writing a word: the AI stops answering it."""
    with rt.sessions() as session:
        _account, _contact, lead = _scoped(session, account_id, lead_id)
        lead.owner = "human"
        outbox.finish(session, Kind.AI_TURN, str(lead.id), "cancelled", "human_took_over")
        cancel_drafts(session, account_id, lead.id, reason="human_took_over")
        session.commit()


def drop_draft(rt: Runtime, *, account_id: int, lead_id: int, draft_id: int) -> None:
    """Assist mode: the person does not want this draft sent."""
    with rt.sessions() as session:
        _scoped(session, account_id, lead_id)
        dropped = session.execute(
            update(Message)
            .where(
                Message.id == draft_id,
                Message.account_id == account_id,
                Message.lead_id == lead_id,
                Message.status == "draft",
            )
            .values(status="cancelled", reason="dropped_by_person")
        )
        if dropped.rowcount != 1:  # type: ignore[attr-defined]
            raise TakeoverError(f"lead {lead_id} has no draft {draft_id} waiting")
        session.commit()


def hand_back(rt: Runtime, *, account_id: int, lead_id: int) -> None:
    """The AI may answer again; its turn budget counts from the last person's reply."""
    with rt.sessions() as session:
        _account, _contact, lead = _scoped(session, account_id, lead_id)
        lead.owner = "ai"
        lead.handoff_at, lead.handoff_reason, lead.ai_turns = None, None, 0
        outbox.finish(session, Kind.HANDOFF_CHECK, str(lead.id), "cancelled", "handed_back")
        session.commit()


def _scoped(session: Session, account_id: int, lead_id: int) -> tuple[Account, Contact, Lead]:
    lead = session.scalar(select(Lead).where(Lead.id == lead_id, Lead.account_id == account_id))
    if lead is None:
        raise TakeoverError(f"account {account_id} has no lead {lead_id}")
    account = session.get_one(Account, account_id)
    contact = session.get_one(Contact, lead.contact_id)
    return account, contact, lead
