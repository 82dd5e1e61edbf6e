"""The JSON object a machine door was sent, or None for anything else."""

from __future__ import annotations

from typing import Any

from flask import request


def json_object() -> dict[str, Any] | None:
    """None when the body is not JSON, not an object, or nested too deep to parse: Python's
    parser raises RecursionError past about a thousand levels, which Flask's silent mode does
    not catch (it would answer 500)."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        return None
    return body if isinstance(body, dict) else None
