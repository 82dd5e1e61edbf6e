"""Sending texts: Twilio, or the sandbox twin when no credentials are set.

A gateway sends exactly what it is told, once; deciding and claiming happen before it is called.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from loopstrat.config import TWILIO_API_DEFAULT, Settings
from loopstrat.logs import SHOWS_PERSONAL_DATA
from loopstrat.phones import mask
from loopstrat.sms.segments import segment_count

log = logging.getLogger(__name__)

ERROR_UNSUBSCRIBED = 21610  # recipient replied STOP to this sender at the carrier
ERROR_INVALID_TO = 21211
# A message created within this much of a claim is taken to be that claim's send.
CLOCK_SKEW = timedelta(seconds=90)


@dataclass(frozen=True)
class SentMessage:
    sid: str
    status: str
    segments: int
    price_cents: int | None = None


class SmsError(Exception):
    """`outcome` tells the caller what it may do next: 'not_sent' (safe to retry later),
    'unknown' (Twilio may have the message: reconcile before any resend), 'rejected' (final)."""

    def __init__(self, outcome: str, code: int | None, detail: str) -> None:
        super().__init__(f"{outcome} code={code} {detail}")
        self.outcome = outcome
        self.code = code


class SmsGateway(Protocol):
    name: str
    max_validity_period_s: int  # VALIDITY_PERIOD_S: the longest any text may wait at Twilio

    def send(
        self, *, to: str, from_: str, body: str, status_callback: str, validity_period_s: int
    ) -> SentMessage: ...

    def find_sent(
        self,
        *,
        to: str,
        from_: str,
        body: str,
        since: datetime,
        exclude: frozenset[str] = frozenset(),
    ) -> SentMessage | None: ...


class RebasedHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """Twilio's HTTP client with a timeout and, when set, TWILIO_API_BASE instead of
    api.twilio.com (the SDK applies region/edge rewrites before the request reaches us)."""

    def __init__(self, api_base: str, timeout_s: float) -> None:
        super().__init__(timeout=timeout_s)
        self.api_base = api_base.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if self.api_base != TWILIO_API_DEFAULT and url.startswith(TWILIO_API_DEFAULT):
            url = self.api_base + url[len(TWILIO_API_DEFAULT) :]
        return super().request(method, url, *args, **kwargs)


class TwilioGateway:
    name = "twilio"

    def __init__(self, settings: Settings) -> None:
        self.max_validity_period_s = settings.validity_period_s
        self.client = Client(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            http_client=RebasedHttpClient(settings.twilio_api_base, settings.twilio_timeout_s),
        )

    def send(
        self, *, to: str, from_: str, body: str, status_callback: str, validity_period_s: int
    ) -> SentMessage:
        try:
            msg = self.client.messages.create(
                to=to,
                from_=from_,
                body=body,
                status_callback=status_callback,
                validity_period=validity_period_s,
            )
        except TwilioRestException as exc:
            raise _classify(exc) from None
        except requests.Timeout:
            raise SmsError("unknown", None, "timeout") from None
        except requests.ConnectionError:
            # Refused before a byte was written is "not sent", but requests cannot tell us
            # which, so reconcile.
            raise SmsError("unknown", None, "connection") from None
        return SentMessage(
            sid=str(msg.sid),
            status=str(msg.status or "queued"),
            segments=int(msg.num_segments or segment_count(body)),
        )

    def find_sent(
        self,
        *,
        to: str,
        from_: str,
        body: str,
        since: datetime,
        exclude: frozenset[str] = frozenset(),
    ) -> SentMessage | None:
        try:
            recent = self.client.messages.list(to=to, from_=from_, limit=20)
        except TwilioRestException as exc:
            raise _classify(exc) from None
        except requests.RequestException:
            raise SmsError("unknown", None, "list_failed") from None
        for msg in recent:
            created = msg.date_created
            if str(msg.sid) in exclude:
                continue  # another of our rows already owns it
            if msg.body == body and created is not None and created >= since - CLOCK_SKEW:
                return SentMessage(str(msg.sid), str(msg.status), int(msg.num_segments or 1))
        return None


def _classify(exc: TwilioRestException) -> SmsError:
    if exc.status == 429:
        return SmsError("not_sent", exc.code, "rate_limited")
    if exc.status >= 500:
        return SmsError("unknown", exc.code, f"http_{exc.status}")
    return SmsError("rejected", exc.code, f"http_{exc.status}")


class SandboxGateway:
    """Local twin: accepts every text, gives it a sid, and logs that it would have gone out:
    in development the whole text, so a developer reads what a lead would get; else masked."""

    name = "sandbox"

    def __init__(self, max_validity_period_s: int, show_texts: bool = False) -> None:
        self.max_validity_period_s = max_validity_period_s
        self.show_texts = show_texts

    def send(
        self, *, to: str, from_: str, body: str, status_callback: str, validity_period_s: int
    ) -> SentMessage:
        sid = "SM" + uuid.uuid4().hex
        segments = segment_count(body)
        if self.show_texts:
            log.info(
                "sandbox sms (not sent) sid=%s to=%s from=%s segments=%d validity_s=%d\n    %s",
                *(sid, to, from_, segments, validity_period_s, body),
                extra={SHOWS_PERSONAL_DATA: True},
            )
        else:
            log.info(
                "sandbox sms sid=%s to=%s segments=%d validity_s=%d",
                *(sid, mask(to), segments, validity_period_s),
            )
        return SentMessage(sid=sid, status="sent", segments=segments)

    def find_sent(
        self,
        *,
        to: str,
        from_: str,
        body: str,
        since: datetime,
        exclude: frozenset[str] = frozenset(),
    ) -> SentMessage | None:
        return None


def make_gateway(settings: Settings) -> SmsGateway:
    if settings.sms_backend == "twilio":
        return TwilioGateway(settings)
    return SandboxGateway(settings.validity_period_s, show_texts=settings.env == "development")
