"""End to end in a real browser: sign in, switch to Spanish, the navigation follows."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from itsmo.accounts import services as accounts

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]


@pytest.fixture
def async_unsafe_allowed():
    """Playwright's sync API runs an event loop in this thread; Django would refuse the ORM."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(async_unsafe_allowed):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        yield context.new_page()
        browser.close()


def test_sign_in_and_switch_to_spanish(live_server, page, admin_user, password):
    accounts.update_preferences(admin_user, language="en")

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", password)
    page.click(".auth__card button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    nav = page.locator("#site-nav")
    assert "Incidents" in nav.inner_text()

    page.click(".user-menu__summary")
    page.click("a[href='/accounts/preferences/']")
    page.select_option("#id_language", "es")
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/accounts/preferences/")

    assert page.locator("html").get_attribute("lang") == "es"
    assert "Sus preferencias se han guardado." in page.locator(".messages").inner_text()
    text = nav.inner_text()
    for label in ("Incidentes", "Problemas", "Cambios", "Solicitudes", "Conocimiento"):
        assert label in text
    assert "Incidents" not in text
