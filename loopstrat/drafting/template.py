"""Template replies: the fallback that always works, and the drafter with no API key."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"


@lru_cache(maxsize=1)
def _sms_env() -> Environment:
    # Plain text for SMS: no HTML escaping; a missing variable is a bug, not a blank.
    return Environment(  # noqa: S701 - text templates, never rendered as HTML
        loader=FileSystemLoader(TEMPLATES_DIR / "sms"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def render_sms(name: str, **values: object) -> str:
    text = _sms_env().get_template(name).render(**values)
    return " ".join(text.split())
