"""Structured key=value logs on stderr, through one filter masking phones, emails, secrets and
database row details on every handler, whichever library wrote the line. Bodies have no shape
to recognise: no call site may ever log one (but development's sandbox twin, see below).
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Callable
from typing import TextIO
from urllib.parse import unquote

FORMAT = "ts=%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"
HANDLER_NAME = "loopstrat"
# Loggers that keep handlers of their own instead of propagating to ours.
FOREIGN_LOGGERS = ("gunicorn.error", "gunicorn.access")
# SDK loggers held at WARNING whatever LOG_LEVEL says: twilio's HTTP client logs every
# request's URL at INFO (the reconcile's Messages list carries To and From in it); anthropic
# logs each request's options at DEBUG, the prompt with the lead's own words among them.
QUIET_LOGGERS = ("alembic", "twilio.http_client", "anthropic", "httpx2", "httpcore", "urllib3")

# A record that carries this attribute set to True is passed unmasked: only development's
# sandbox twin sets it (see sms.gateway.SandboxGateway), never a production path.
SHOWS_PERSONAL_DATA = "shows_personal_data"

Mask = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]

COMMAND_LEVEL = "WARNING"  # a command prints its result; its logs only when something is wrong
PROCESS_LEVEL = "INFO"  # web, worker and scheduler: their logs are what an operator reads


def _last_four(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return f"***{digits[-4:]}"


# Paths that carry a bearer token: whoever holds an invite link joins the account, and a review
# link's token is its recipient's. gunicorn's access log writes each path, referer and query as
# sent, so each is read as the router reads it (percent-decoded, slashes collapsed) first.
_TOKEN_PATH = re.compile(r"(?i)(?<![\w.-])/+(dashboard/+invite|r)/+[^/?#&\s\"']+")
_URL_OR_PATH = re.compile(r"(?:[a-z][a-z0-9+.-]*://[^/\s\"']+)?/[^\s\"'<>]*", re.IGNORECASE)


_ORIGIN = re.compile(r"^[a-z][a-z0-9+.-]*://[^/]+", re.IGNORECASE)


def _without_tokens(match: re.Match[str]) -> str:
    raw = match.group(0)
    origin = _ORIGIN.match(raw)
    start = origin.end() if origin else 0
    routed = unquote(unquote(raw[start:]))
    masked, found = _TOKEN_PATH.subn(_token_route, routed)
    return raw[:start] + masked if found else raw


def _token_route(found: re.Match[str]) -> str:
    return "/dashboard/invite/***" if found.group(1).lower().startswith("d") else "/r/***"


MASKS: list[Mask] = [
    (_URL_OR_PATH, _without_tokens),
    # PostgreSQL's error details carry the row: "Key (account_id, phone)=(1, +1801...)",
    # "Failing row contains (12, 1, +1801..., Jane, <body>)". Keep the columns, drop the values.
    (
        re.compile(r"Key \(([^)]*)\)=\(.*?\)(?= already exists| is not present|$)", re.M),
        r"Key (\1)=(***)",
    ),
    (re.compile(r"Failing row contains \(.*\)"), "Failing row contains (***)"),
    (re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+@"), "***:***@"),  # user:password@ in a URL
    (re.compile(r"(?i)\b(bearer|basic)\s+[\w.~+/=-]{8,}"), r"\1 ***"),
    (re.compile(r"\bpat[A-Za-z0-9]{14}\.[A-Za-z0-9]{64}\b"), "pat***"),  # Airtable
    (re.compile(r"\bsk-ant-[\w-]+"), "sk-ant-***"),  # Anthropic
    (re.compile(r"\b(sk|rk)_(live|test)_[A-Za-z0-9]+"), r"\1_\2_***"),  # Stripe
    (re.compile(r"\bwhsec_[A-Za-z0-9]+"), "whsec_***"),
    (re.compile(r"\bgAAAAA[\w-]{20,}=*"), "gAAAAA***"),  # a Fernet token (a stored secret)
    (re.compile(r"(?i)\b(\w*(?:token|password|secret|api_?key))=[^&\s,;]+"), r"\1=***"),
    (re.compile(r"[\w.+-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+"), "***@***"),
    # E.164, also URL-encoded (twilio's HTTP client logs its query strings).
    (re.compile(r"(?:\+|%2B)[1-9]\d{6,14}(?!\d)"), _last_four),
    # North American numbers as people type them: 801-555-0142, (801) 555 0142, 18015550142.
    (
        re.compile(
            r"(?<![\w.+-])(?:1[\s.-]?)?\(?[2-9]\d{2}\)?[\s.-]?[2-9]\d{2}[\s.-]?\d{4}(?![\w-])"
        ),
        _last_four,
    ),
]


def mask_personal(text: str) -> str:
    for pattern, replacement in MASKS:
        text = pattern.sub(replacement, text)
    return text


class MaskPersonalData(logging.Filter):
    """Masks the message and the formatted exception in place, so every handler after this one
    (RQ's, gunicorn's, a test's) sees the masked record too."""

    _exceptions = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, SHOWS_PERSONAL_DATA, False):
            return True  # the sandbox twin in development, showing a developer their own text
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            # logging would print the raw arguments of a broken format string: never do.
            message = f"{record.msg} (arguments dropped: they do not fit the format)"
        record.msg, record.args = mask_personal(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._exceptions.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_personal(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_personal(record.stack_info)
        return True


MASK_FILTER = MaskPersonalData()


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to sys.stderr as it is at each line: a CLI runner (and pytest) swaps it."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def setup_logging(level: str | None = None, stream: TextIO | None = None) -> None:
    """Our handler on the root logger (replacing a previous one), masking every record; the
    masking filter on the handlers of loggers that do not propagate to it."""
    root = logging.getLogger()
    root.setLevel((level or os.environ.get("LOG_LEVEL") or PROCESS_LEVEL).upper())
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    handler = _StderrHandler() if stream is None else logging.StreamHandler(stream)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(MASK_FILTER)
    root.addHandler(handler)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in FOREIGN_LOGGERS:
        for foreign in logging.getLogger(name).handlers:
            if MASK_FILTER not in foreign.filters:
                foreign.addFilter(MASK_FILTER)
