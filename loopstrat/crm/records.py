"""What Loopstrat writes to Airtable: each table's fields (name, type) and the pure mapping of a
contact, lead or message to those fields. Never talks to Airtable, never reads the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from loopstrat.models import Contact, Lead, Message

KEY_FIELD = "Loopstrat ID"  # the upsert key (performUpsert.fieldsToMergeOn), first column

_DATETIME = {"dateFormat": {"name": "iso"}, "timeFormat": {"name": "24hour"}, "timeZone": "utc"}
# Types a contractor may have chosen by hand that still take what we write.
COMPATIBLE = {
    "singleLineText": {"singleLineText", "multilineText", "richText"},
    "multilineText": {"multilineText", "singleLineText", "richText"},
    "phoneNumber": {"phoneNumber", "singleLineText"},
    "email": {"email", "singleLineText"},
    "singleSelect": {"singleSelect", "singleLineText"},
    "checkbox": {"checkbox"},
    "number": {"number", "currency", "duration"},
    "currency": {"currency", "number"},
    "dateTime": {"dateTime"},
}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    options: dict[str, Any] | None = field(default=None, hash=False, compare=False)

    def model(self) -> dict[str, Any]:
        """Airtable's field model, as the schema API takes it."""
        spec: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.options:
            spec["options"] = self.options
        return spec


def _select(*choices: str) -> dict[str, Any]:
    return {"choices": [{"name": c} for c in choices]}


FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "contacts": (
        FieldSpec(KEY_FIELD, "singleLineText"),
        FieldSpec("Name", "singleLineText"),
        FieldSpec("Phone", "phoneNumber"),
        FieldSpec("Email", "email"),
        FieldSpec("ZIP", "singleLineText"),
        FieldSpec("Consent", "singleSelect", _select("none", "inquiry", "marketing")),
        FieldSpec("Opted out", "checkbox", {"icon": "check", "color": "redBright"}),
    ),
    "leads": (
        FieldSpec(KEY_FIELD, "singleLineText"),
        FieldSpec("Contact", "singleLineText"),
        FieldSpec("Name", "singleLineText"),
        FieldSpec("Phone", "phoneNumber"),
        FieldSpec("Inquiry", "multilineText"),
        FieldSpec("Service", "singleLineText"),
        FieldSpec("Source", "singleLineText"),
        FieldSpec("Received", "dateTime", _DATETIME),
        FieldSpec("First response (s)", "number", {"precision": 0}),
        FieldSpec(
            "Status",
            "singleSelect",
            _select("new", "responded", "replied", "qualified", "booked", "lost"),
        ),
        FieldSpec("Job value", "currency", {"precision": 2, "symbol": "$"}),
    ),
    "messages": (
        FieldSpec(KEY_FIELD, "singleLineText"),
        FieldSpec("Contact", "singleLineText"),
        FieldSpec("Lead", "singleLineText"),
        FieldSpec("Direction", "singleSelect", _select("out", "in")),
        FieldSpec("Kind", "singleLineText"),
        FieldSpec("Body", "multilineText"),
        FieldSpec("Status", "singleLineText"),
        FieldSpec("Drafted by", "singleLineText"),
        FieldSpec("Sent", "dateTime", _DATETIME),
        FieldSpec("Delivered", "dateTime", _DATETIME),
    ),
}
# Journal entity -> Airtable table kind, and the prefix that makes a key readable in a base.
TABLE_OF = {"contact": "contacts", "lead": "leads", "message": "messages"}
PREFIX = {"contact": "C", "lead": "L", "message": "M"}


def key_of(entity: str, entity_id: int) -> str:
    return f"{PREFIX[entity]}{entity_id}"


def _when(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def contact_fields(contact: Contact) -> dict[str, Any]:
    consent = "none"
    if contact.marketing_consent_at:
        consent = "marketing"
    elif contact.consent_at:
        consent = "inquiry"
    return {
        KEY_FIELD: key_of("contact", contact.id),
        "Name": contact.name or "",
        "Phone": contact.phone,
        "Email": contact.email,
        "ZIP": contact.zip or "",
        "Consent": consent,
        "Opted out": contact.opted_out_at is not None,
    }


def lead_fields(lead: Lead, contact: Contact | None) -> dict[str, Any]:
    first_response_s = None
    if lead.first_response_at is not None:
        took = lead.first_response_at - lead.received_at
        first_response_s = max(0, round(took.total_seconds()))
    return {
        KEY_FIELD: key_of("lead", lead.id),
        "Contact": key_of("contact", lead.contact_id),
        "Name": (contact.name if contact else None) or "",
        "Phone": contact.phone if contact else None,
        "Inquiry": lead.inquiry or "",
        "Service": lead.service or "",
        "Source": lead.source,
        "Received": _when(lead.received_at),
        "First response (s)": first_response_s,
        "Status": lead.status,
        "Job value": lead.job_value_cents / 100 if lead.job_value_cents is not None else None,
    }


def message_fields(message: Message) -> dict[str, Any]:
    return {
        KEY_FIELD: key_of("message", message.id),
        "Contact": key_of("contact", message.contact_id) if message.contact_id else "",
        "Lead": key_of("lead", message.lead_id) if message.lead_id else "",
        "Direction": message.direction,
        "Kind": message.kind,
        "Body": message.body,
        "Status": message.status,
        "Drafted by": message.drafted_by or "",
        "Sent": _when(message.sent_at),
        "Delivered": _when(message.delivered_at),
    }
