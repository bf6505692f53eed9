"""Browser tests: Playwright drives Debian's chromium against pytest-django's live server.

Fixtures for every e2e test:

- ``browser``: one headless chromium for the session (skips when it is not installed);
- ``page``: a fresh browser context on the live server (``page.goto("/accounts/login/")``
  works with a path). It fails the test if the browser logs a console error, an uncaught
  exception or a Content-Security-Policy violation (chromium reports those on the
  console); a test that provokes one on purpose removes it from ``browser_errors``;
- ``login(page, email, password)``: signs in through the real sign-in form.

Mark test modules with ``pytestmark = pytest.mark.e2e``; run them with ``uv run pytest -m e2e``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, sync_playwright
from pytest_django.live_server_helper import LiveServer

# Playwright's sync API runs an event loop in this thread, and Django refuses ORM calls
# from a thread with a running loop unless told the caller knows what it does.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def browser_errors() -> list[str]:
    """Console errors, uncaught exceptions and CSP violations seen by ``page``."""
    return []


@pytest.fixture
def page(
    browser: Browser,
    live_server: LiveServer,
    transactional_db: None,
    # The live server needs committed data, so tables are flushed after each test; this
    # restores the rows that migrations create (the role groups) for the next one.
    django_db_serialized_rollback: None,
    browser_errors: list[str],
) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            browser_errors.append(f"console: {message.text} ({message.location.get('url', '')})")

    def on_page_error(error: Error) -> None:
        browser_errors.append(f"uncaught: {error.message}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    yield page
    context.close()
    assert browser_errors == [], "the browser reported errors"


@pytest.fixture
def login() -> Callable[[Page, str, str], None]:
    """Sign in through the real sign-in form; the caller asserts where it landed."""

    def sign_in(page: Page, email: str, password: str) -> None:
        page.goto("/accounts/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()

    return sign_in
