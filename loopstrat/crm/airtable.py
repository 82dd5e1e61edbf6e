"""The adapter to Airtable's Web API (pyairtable): every call paced per base, timed out, and its
failure sorted into what the sync should do about it.

pyairtable's own retry covers only 429 and gives up after about 3 s; Airtable wants 30 s of
silence after a 429, so its retry is off and pacing.BaseLimiter owns 429s. Never logs a token.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from pyairtable import Api

from loopstrat.crm.connection import AirtableConnection
from loopstrat.crm.pacing import BaseLimiter, wall_clock

log = logging.getLogger(__name__)

T = TypeVar("T")
CONNECT_TIMEOUT_S = 3
READ_TIMEOUT_S = 15
# A worker may wait this long for a request slot; a longer wait hands the job back to the outbox.
MAX_SLEEP_S = 1.5
# Airtable's error types worth their own advice (https://airtable.com/developers/web/api/errors).
ADVICE = {
    "AUTHENTICATION_REQUIRED": "the token is invalid or revoked: run `loopstrat airtable connect`",
    "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND": (
        "the token cannot reach this base or table (scopes data.records:read, "
        "data.records:write, schema.bases:read and access to the base are needed)"
    ),
    "INVALID_PERMISSIONS": "the token lacks a scope this needs",
    "NOT_FOUND": "the base or a table was not found",
    "TABLE_NOT_FOUND": "a table was not found: run `loopstrat airtable check`",
    "UNKNOWN_FIELD_NAME": "a field is missing: run `loopstrat airtable check`",
    "INVALID_VALUE_FOR_COLUMN": "a field has the wrong type: run `loopstrat airtable check`",
}


class AirtableError(Exception):
    """kind: rate_limited | transient (5xx, timeout, network) | rejected (4xx: fix settings)."""

    def __init__(self, kind: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.kind, self.status = kind, status


class SlotWait(Exception):
    """No request slot within MAX_SLEEP_S: come back at `seconds` from now."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"base busy for {seconds:.1f}s")
        self.seconds = seconds


def make_api(endpoint_url: str, token: str) -> Api:
    return Api(
        token,
        timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
        retry_strategy=None,
        endpoint_url=endpoint_url.rstrip("/"),
    )


@dataclass
class AirtableClient:
    """One account's base, through the shared limiter."""

    conn: AirtableConnection
    api: Api
    limiter: BaseLimiter
    sleep: Callable[[float], None]
    max_sleep_s: float = MAX_SLEEP_S
    requests_made: int = 0

    def call(self, fn: Callable[[], T]) -> T:
        """One HTTP request to the base, after a slot; raises AirtableError or SlotWait."""
        self._wait_for_slot()
        self.requests_made += 1
        try:
            return fn()
        except requests.HTTPError as exc:
            raise self._classified(exc) from None
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise AirtableError("transient", f"network: {type(exc).__name__}") from None

    def _wait_for_slot(self) -> None:
        while True:
            wait = self.limiter.try_acquire(self.conn.base_id, wall_clock())
            if wait <= 0:
                return
            if wait > self.max_sleep_s:
                raise SlotWait(wait)
            self.sleep(wait)

    def _classified(self, exc: requests.HTTPError) -> AirtableError:
        response = exc.response
        status = response.status_code if response is not None else None
        kind_of = _error_type(response)
        if status == 429:
            self.limiter.pause(self.conn.base_id, wall_clock())
            log.warning("airtable 429 account_id=%s base paused", self.conn.account_id)
            return AirtableError("rate_limited", "Airtable rate limit (429): paused 30 s", 429)
        if status is None or status >= 500:
            return AirtableError("transient", f"Airtable error {status} {kind_of}".strip(), status)
        advice = ADVICE.get(kind_of, "")
        text = f"Airtable {status} {kind_of}".strip() + (f": {advice}" if advice else "")
        return AirtableError("rejected", text, status)

    def table(self, kind: str) -> Any:
        return self.api.table(self.conn.base_id, self.conn.tables[kind])


def _error_type(response: requests.Response | None) -> str:
    """Airtable answers {"error": {"type": ..., "message": ...}} or {"error": "NOT_FOUND"}."""
    if response is None:
        return ""
    try:
        body = response.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("type", ""))
    return str(error or "")
