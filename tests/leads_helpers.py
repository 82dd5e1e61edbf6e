"""Posting a lead the way a contractor's web form does: the story most tests start from."""

from __future__ import annotations

from typing import Any

LEAD = {
    "name": "Jane Doe",
    "phone": "(801) 555-0142",
    "email": "jane@example.com",
    "zip": "84101",
    "message": "My water heater is leaking",
    "service": "water heater",
    "consent": "on",
}


def post_lead(client: Any, account: Any, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    return client.post(f"/leads/{account.form_key}", json=data or LEAD, **kwargs)
