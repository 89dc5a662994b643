"""Support of the end-to-end tests that drive Debian's Chromium through Playwright.

A module of browser tests sets ``pytestmark = MARKS`` (the ``browser`` marker, and
a skip where /usr/bin/chromium is missing) and uses the fixtures of ``tests/conftest.py``:
``browser`` (one headless Chromium per test) and ``sign_in`` (a signed-in page per user).

Set ``ITSMO_BROWSER_SCREENSHOTS`` to a directory and :func:`screenshot` saves the pages a
test drives there (full page, PNG), to look at them; unset, it does nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from itsmo.accounts import services as accounts

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
#: The screen the flows are written for: a common office laptop.
VIEWPORT = {"width": 1366, "height": 768}
TIME_ZONE = "America/Mexico_City"
SCREENSHOTS = "ITSMO_BROWSER_SCREENSHOTS"

MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]


@contextmanager
def async_unsafe_allowed() -> Iterator[None]:
    """Playwright's sync API runs an event loop in this thread; Django would refuse the ORM."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@contextmanager
def chromium():
    """A headless Debian Chromium, closed on the way out."""
    from playwright.sync_api import sync_playwright

    with async_unsafe_allowed(), sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def sign_in(
    browser, live_server, user, password, *, viewport=VIEWPORT, time_zone=TIME_ZONE, language="en"
):
    """A page of a new browser context (its own cookies) where ``user`` has signed in through
    the sign-in form and landed on the home page, reading ``language`` in ``time_zone``;
    relative URLs (``page.goto("/problems/")``) go to the live server."""
    accounts.update_preferences(user, language=language, time_zone=time_zone)
    context = browser.new_context(locale="en-US", viewport=viewport, base_url=live_server.url)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.click(".auth__card button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return page


def screenshot(page, name: str) -> Path | None:
    """Save the whole page as ``<name>.png`` when ``ITSMO_BROWSER_SCREENSHOTS`` names a
    directory; returns the file (``None`` when screenshots are off)."""
    folder = os.environ.get(SCREENSHOTS)
    if not folder:
        return None
    path = Path(folder) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # sticky bars are drawn where the view is
    page.screenshot(path=str(path), full_page=True)
    return path
