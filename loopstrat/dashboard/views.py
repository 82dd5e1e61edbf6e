"""The dashboard's pages, one module each; importing them registers their routes on bp."""

from __future__ import annotations

from loopstrat.dashboard import auth, home, join, lead, password, roi, settings, team  # noqa: F401
