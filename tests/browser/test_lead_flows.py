"""A contractor's day in a real browser: open a lead, take it over, reply, mark it booked with
a value and see the ROI move; a lead posted meanwhile shows in the feed without a reload; and
each page at phone and desktop widths, with no sideways scrolling (its screenshots are the
README's, saved under docs/screenshots/ when SAVE_SCREENSHOTS=1: `make screenshots`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import pytest
import time_machine
from playwright.sync_api import Page, expect

from loopstrat.demo import seed_demo_leads
from loopstrat.models import Account
from tests.browser.conftest import NARROW, WIDE, sign_in
from tests.leads_helpers import LEAD, post_lead

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LIVE_FEED_TIMEOUT_MS = 15_000  # the feed polls every 5 s


@pytest.fixture(autouse=True)
def daytime() -> Iterator[None]:
    """11:00 in Denver today, so every reply may go at once. Today, not a fixed date: the
    browser keeps the session cookie by its own clock, which no test can move."""
    today_11am = datetime.combine(datetime.now(UTC).date(), time(18, 0), UTC)
    with time_machine.travel(today_11am, tick=True):
        yield


def test_open_take_over_reply_book_and_see_the_roi(
    page: Page, owner: Any, client, rt, account, twilio, worker
) -> None:
    with rt.sessions() as session:  # the AI answers this account: there is something to take
        session.get_one(Account, account.id).ai_mode = "auto"
        session.commit()
    post_lead(client, account)
    worker()
    sign_in(page, owner.email)
    page.get_by_role("link", name="ROI").click()
    expect(page.locator("#roi-revenue")).to_have_text("$0.00")

    page.get_by_role("link", name="Leads").first.click()
    page.get_by_role("link", name="Jane Doe").click()
    expect(page.get_by_role("heading", name="Jane Doe")).to_be_visible()
    page.get_by_role("button", name="Take over from the AI").click()
    expect(page.get_by_text("You have this conversation")).to_be_visible()

    page.get_by_label("Your text to Jane Doe").fill("Mike here: Tuesday 9am works?")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_text("Reply sent.")).to_be_visible()
    expect(page.locator("#thread")).to_contain_text("Mike here: Tuesday 9am works?")
    assert [m["Body"] for m in twilio.sent].count("Mike here: Tuesday 9am works?") == 1

    page.get_by_label("Mark the lead").select_option("booked")
    page.get_by_label("Job value in dollars").fill("1,250")
    page.get_by_role("button", name="Save outcome").click()
    expect(page.get_by_text("Marked booked.")).to_be_visible()
    expect(page.locator("#lead-state")).to_contain_text("job value $1,250.00")

    page.get_by_role("link", name="ROI").click()
    expect(page.locator("#roi-revenue")).to_have_text("$1,250.00")
    expect(page.locator("#roi-leads")).to_have_text("1")


def test_the_feed_shows_a_new_lead_without_a_reload(
    page: Page, owner: Any, client, account, twilio, worker
) -> None:
    sign_in(page, owner.email)
    expect(page.get_by_text("No leads yet")).to_be_visible()
    page.evaluate("window.loadedOnce = true")  # gone if the page reloads
    post_lead(client, account, {**LEAD, "name": "Rosa Diaz", "phone": "801-555-0175"})
    expect(page.get_by_role("link", name="Rosa Diaz")).to_be_visible(timeout=LIVE_FEED_TIMEOUT_MS)
    assert page.evaluate("window.loadedOnce") is True


@pytest.mark.parametrize("width", [NARROW, WIDE], ids=["phone", "desktop"])
def test_each_page_at_phone_and_desktop_width(
    page: Page, owner: Any, rt, account, width: int, tmp_path: Path
) -> None:
    with rt.sessions() as db:
        seed_demo_leads(db, db.get_one(Account, account.id))
        db.commit()
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, owner.email)
    folder = SHOTS if os.environ.get("SAVE_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    size = "phone" if width == NARROW else "desktop"
    pages = {
        "feed": "/dashboard/",
        "conversation": None,  # the first demo lead's, found from the feed
        "roi": "/dashboard/roi?days=7",
        "settings": "/dashboard/settings",
    }
    for name, path in pages.items():
        if path is None:
            page.goto("/dashboard/")
            page.get_by_role("link", name="Demo: Ana Ruiz").click()
        else:
            page.goto(path)
        expect(page.locator("h1")).to_be_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow} px at {width} px"
        page.screenshot(path=str(folder / f"{name}-{size}.png"), full_page=name != "settings")
