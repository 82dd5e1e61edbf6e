"""The dashboard in a real browser: signing in, its one generic error, and the keyboard.
The flows over the feed, a conversation and the ROI page join when those pages land."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from tests.browser.conftest import NARROW, sign_in


def test_sign_in_lands_on_the_dashboard(page: Page, owner: Any) -> None:
    sign_in(page, owner.email)
    expect(page.get_by_role("heading", name="Leads")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


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


def test_a_phone_wide_screen_needs_no_sideways_scrolling(page: Page, owner: Any) -> None:
    page.set_viewport_size({"width": NARROW, "height": 800})
    sign_in(page, owner.email)
    expect(page.get_by_role("heading", name="Leads")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0


def test_the_guard_sees_what_would_leave_the_machine(page: Page, guard: Any) -> None:
    page.goto("/dashboard/sign-in")
    # A script's fetch elsewhere: the CSP refuses it, and the console error is caught.
    page.evaluate("async () => { try { await fetch('https://fonts.example.com/a.css') } catch {} }")
    assert any("Content Security Policy" in error for error in guard.errors)
    # A navigation elsewhere is not the CSP's business: the request guard refuses it.
    with pytest.raises(PlaywrightError):
        page.goto("https://tracker.example.com/pixel")
    assert guard.outside == ["https://tracker.example.com/pixel"]
    guard.outside.clear()  # both seen and refused; the pages themselves asked for nothing
    guard.errors.clear()
