"""What the product accepts as a web address in a setting: it goes into texts, redirects and
Location headers, so nothing a header or a text could be split with.

Pure. Used by the dashboard's settings and the command line alike.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

MAX_CHARS = 500
NOT_A_URL = "a web address starting with https:// or http:// (at most 500 characters)"
NO_SPACES = "a web address has no spaces or control characters"


def web_address(raw: str) -> str:
    """An http(s) URL, unchanged; ValueError in words otherwise."""
    if any(unicodedata.category(ch)[0] in "CZ" for ch in raw):
        raise ValueError(NO_SPACES)  # CR/LF would split a Location header, a tab a text
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(raw) > MAX_CHARS:
        raise ValueError(NOT_A_URL)
    return raw


def website(raw: str) -> str:
    """The business's own site, bare (acmeplumbing.com) or with its scheme."""
    web_address(raw if "://" in raw else f"https://{raw}")
    return raw
