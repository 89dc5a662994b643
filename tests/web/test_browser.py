"""End to end in a real browser: sign in, switch to Spanish, the navigation follows."""

from __future__ import annotations

from tests.browser import MARKS

pytestmark = MARKS


def test_sign_in_and_switch_to_spanish(live_server, sign_in, admin_user):
    page = sign_in(admin_user, viewport={"width": 1280, "height": 900})
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
