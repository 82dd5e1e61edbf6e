"""Browser fixtures: the real app served on 127.0.0.1 in a thread, Debian's chromium driven by
Playwright (never a downloaded browser), and a guard that fails a test on any request leaving
127.0.0.1, any console error or any CSP violation."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

from tests.dashboard_helpers import PASSWORD, make_user

CHROMIUM = "/usr/bin/chromium"
NARROW, WIDE = 375, 1280


@pytest.fixture
def live_server(app: Any) -> Iterator[str]:
    """The real app (real DB and Redis, sandbox SMS) on a free port, so a real browser can
    reach it; port 0 lets the kernel pick one no other helper is using."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@dataclass
class Guard:
    """What the page did that it must not: reach outside, log an error, break the CSP."""

    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.outside == [], f"requests left 127.0.0.1: {self.outside}"
        # A wrong password answers 401 by design; chromium logs that status as an error.
        errors = [e for e in self.errors if not e.endswith("status of 401 (UNAUTHORIZED)")]
        assert errors == [], f"console errors or CSP violations: {errors}"


@pytest.fixture
def guard() -> Guard:
    return Guard()


@pytest.fixture
def page(browser: Browser, live_server: str, guard: Guard) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server, viewport={"width": WIDE, "height": 900})

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if url.startswith("http://127.0.0.1:") or url.startswith("data:"):
            request_route.continue_()
        else:
            guard.outside.append(url)
            request_route.abort()

    context.route("**/*", route)
    context.set_default_timeout(5_000)  # a missing element fails fast; CI stays quick
    tab = context.new_page()
    # A CSP violation reaches the console as an error, so one listener catches both.
    tab.on("console", lambda msg: guard.errors.append(msg.text) if msg.type == "error" else None)
    tab.on("pageerror", lambda exc: guard.errors.append(str(exc)))
    yield tab
    context.close()
    guard.assert_clean()


@pytest.fixture
def owner(rt: Any, account: Any) -> Any:
    return make_user(rt, account, email="owner@example.com", role="admin")


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/dashboard/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.keyboard.press("Enter")
    page.wait_for_url("**/dashboard/")
