"""The dashboard's pages, one module each; importing them registers their routes on bp."""

from __future__ import annotations

from loopstrat.dashboard import (  # noqa: F401
    auth,
    campaigns,
    home,
    join,
    lead,
    page_context,
    password,
    roi,
    settings,
    team,
)
