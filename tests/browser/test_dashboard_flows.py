"""The dashboard in a real browser: sign in, work a lead from the feed to a booked job, the
feed picking up a new lead by itself, the keyboard, and (SCREENSHOTS=1) the pages at 375 px
and 1280 px."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import NARROW, WIDE, sign_in
from tests.test_speed_to_lead import LEAD

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def post_lead(page: Page, account: Any, worker: Any, **fields: str) -> None:
    """A lead arrives through the intake, as a web form posts it, and gets its first text."""
    answer = page.request.post(f"/leads/{account.form_key}", data={**LEAD, **fields})
    assert answer.status == 202, answer.text()
    worker()


def test_sign_in_lands_on_the_lead_feed(page: Page, owner: Any) -> None:
    sign_in(page, owner.email)
    expect(page.locator("#lead-feed")).to_be_visible()


def test_wrong_password_stays_on_sign_in_with_the_generic_error(page: Page, owner: Any) -> None:
    page.goto("/dashboard/sign-in")
    page.get_by_label("Email").fill(owner.email)
    page.get_by_label("Password").fill("not the password")
    page.keyboard.press("Enter")
    expect(page.get_by_text("That email and password do not match an account.")).to_be_visible()


def test_tab_reaches_the_sign_in_fields(page: Page, owner: Any) -> None:
    page.goto("/dashboard/sign-in")
    focused = []
    for _ in range(10):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement && document.activeElement.id"))
        if "password" in focused:
            break
    assert focused.index("email") < focused.index("password")


def test_open_a_lead_reply_take_over_and_book_it(
    page: Page, owner: Any, account: Any, worker: Any
) -> None:
    post_lead(page, account, worker)
    sign_in(page, owner.email)
    page.goto("/dashboard/roi?days=30")
    revenue_before = page.locator("#roi-revenue").inner_text()

    page.goto("/dashboard/")
    page.locator("tr.lead-row a").first.click()
    expect(page.locator("#thread li.text").first).to_be_visible()

    page.get_by_role("button", name="Take over").click()
    expect(page.get_by_role("button", name="Hand back to the AI")).to_be_visible()

    page.get_by_label("Reply").fill("Happy to help, can we come by at 3?")
    page.get_by_role("button", name="Send").click()
    expect(page.locator('#thread li.text[data-author="person"]')).to_have_count(1)

    page.locator('select[name="status"]').select_option("booked")
    page.get_by_label("Job value ($)").fill("1234")
    page.get_by_role("button", name="Save").click()

    page.goto("/dashboard/roi?days=30")
    expect(page.locator("#roi-revenue")).to_have_text("$1,234")
    assert revenue_before != "$1,234"


def test_the_feed_picks_up_a_new_lead_without_a_reload(
    page: Page, owner: Any, account: Any, worker: Any
) -> None:
    post_lead(page, account, worker)
    sign_in(page, owner.email)
    rows = page.locator("tr.lead-row")
    expect(rows).to_have_count(1)
    page.evaluate("window.__same_page = true")  # gone if the page reloads

    post_lead(page, account, worker, name="Sam Second", phone="(801) 555-0177")
    expect(rows).to_have_count(2, timeout=15_000)  # htmx polls every 5 s
    assert page.evaluate("window.__same_page === true")


@pytest.mark.skipif(os.environ.get("SCREENSHOTS") != "1", reason="only with SCREENSHOTS=1")
def test_screenshots(page: Page, owner: Any, account: Any, worker: Any) -> None:
    post_lead(page, account, worker)
    sign_in(page, owner.email)
    page.locator("tr.lead-row a").first.click()
    conversation = page.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    pages = {
        "feed": "/dashboard/",
        "conversation": conversation,
        "roi": "/dashboard/roi?days=30",
        "settings": "/dashboard/settings",
    }
    for width in (NARROW, WIDE):
        page.set_viewport_size({"width": width, "height": 900})
        for name, url in pages.items():
            page.goto(url)
            page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
            assert (SHOTS / f"{name}-{width}.png").stat().st_size > 0
