"""The web shell and the account pages, through Django's test client."""

from __future__ import annotations

import pytest
from django.urls import reverse

from itsmo.accounts import services as accounts
from itsmo.accounts.models import ApiToken, User
from itsmo.web import navigation

ENTRIES = navigation.all_entries()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/soon/incidents/",
        "/accounts/profile/",
        "/accounts/preferences/",
        "/accounts/password/",
    ],
)
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_renders_with_language_switch(client, db):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert b'action="/i18n/setlang/"' in response.content


def test_login_with_good_password_reaches_home_in_the_users_language(
    client, agent_mexico, password
):
    assert agent_mexico.language == "es"  # from the home country

    response = client.post(
        reverse("login"), {"username": "agent.mexico", "password": password}, follow=True
    )

    assert response.status_code == 200
    assert response.request["PATH_INFO"] == "/"
    assert "Bienvenido/a, agent.mexico" in response.text


def test_login_with_bad_password_stays_out(client, agent_mexico):
    response = client.post(reverse("login"), {"username": "agent.mexico", "password": "nope"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert 'class="alert alert--error"' in response.text


def test_anonymous_can_switch_language_on_login_page(client, db):
    client.post("/i18n/setlang/", {"language": "es", "next": "/accounts/login/"})

    response = client.get(reverse("login"))

    assert "Iniciar sesión" in response.text


def test_logout_is_a_post(agent_client):
    response = agent_client.post(reverse("logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in agent_client.session


def test_home_shows_name_roles_and_scope(agent_client, agent_mexico):
    response = agent_client.get("/")

    assert response.status_code == 200
    assert "Agent" in response.text
    assert "Mexico" in response.text
    assert 'aria-current="page"' in response.text


def test_home_of_global_user_says_all_regions(admin_client):
    response = admin_client.get("/")

    assert "All regions and countries" in response.text


@pytest.mark.parametrize("entry", ENTRIES, ids=[entry.key for entry in ENTRIES])
def test_every_nav_entry_answers_200_for_an_administrator(admin_client, entry):
    response = admin_client.get(entry.url())

    assert response.status_code == 200


def test_admin_sees_every_entry_in_the_menu(admin_client):
    response = admin_client.get("/")

    for entry in ENTRIES:
        assert f'href="{entry.url()}"' in response.text


def test_end_user_sees_only_what_is_for_everybody(client, end_user_mexico):
    client.force_login(end_user_mexico)

    response = client.get("/")

    assert 'href="/soon/requests/"' in response.text
    assert 'href="/knowledge/"' in response.text
    assert 'href="/soon/incidents/"' not in response.text
    assert 'href="/soon/audits/"' not in response.text
    assert 'href="/admin/"' not in response.text


def test_soon_page_is_honest_and_marks_its_entry(agent_client):
    response = agent_client.get("/soon/requests/")

    assert response.status_code == 200
    assert "Not available yet" in response.text
    assert str(navigation.get_entry("requests").summary) in response.text
    assert (
        'href="/soon/requests/"\n           class="sidenav__link is-active is-soon"'
        in response.text
    )


def test_soon_page_of_unknown_area_is_404(agent_client):
    assert agent_client.get("/soon/nothing-here/").status_code == 404


def test_soon_page_of_a_built_area_redirects_to_it(agent_client):
    response = agent_client.get("/soon/home/")

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_preferences_change_language_and_next_page_is_spanish(agent_client, agent_mexico):
    response = agent_client.post(
        reverse("preferences"), {"language": "es", "time_zone": "America/Bogota"}
    )

    assert response.status_code == 302
    agent_mexico.refresh_from_db()
    assert (agent_mexico.language, agent_mexico.time_zone) == ("es", "America/Bogota")
    page = agent_client.get(reverse("preferences"))
    assert "Sus preferencias se han guardado." in page.text
    assert "Incidentes" in page.text
    assert '<html lang="es">' in page.text


def test_preferences_refuse_an_unknown_time_zone(agent_client, agent_mexico):
    before = agent_mexico.time_zone

    response = agent_client.post(
        reverse("preferences"), {"language": "pt", "time_zone": "Mars/Olympus_Mons"}
    )

    assert response.status_code == 422
    assert 'class="field__errors"' in response.text
    agent_mexico.refresh_from_db()
    assert agent_mexico.time_zone == before
    assert agent_mexico.language != "pt"


def test_password_change_with_wrong_old_password_changes_nothing(agent_client, agent_mexico):
    before = User.objects.get(pk=agent_mexico.pk).password

    response = agent_client.post(
        reverse("password_change"),
        {
            "old_password": "wrong",
            "new_password": "a-new-long-passphrase",
            "new_password_again": "a-new-long-passphrase",
        },
    )

    assert response.status_code == 422
    assert "Your current password is wrong." in response.text
    assert User.objects.get(pk=agent_mexico.pk).password == before


def test_password_change_with_weak_password_shows_the_validator(agent_client, password):
    response = agent_client.post(
        reverse("password_change"),
        {"old_password": password, "new_password": "123", "new_password_again": "123"},
    )

    assert response.status_code == 422
    assert "too short" in response.text


def test_password_change_keeps_the_user_signed_in(agent_client, agent_mexico, password):
    response = agent_client.post(
        reverse("password_change"),
        {
            "old_password": password,
            "new_password": "a-new-long-passphrase",
            "new_password_again": "a-new-long-passphrase",
        },
        follow=True,
    )

    assert response.status_code == 200
    assert "Your password is changed." in response.text
    assert User.objects.get(pk=agent_mexico.pk).check_password("a-new-long-passphrase")


def test_token_secret_is_shown_once(agent_client, agent_mexico):
    response = agent_client.post(reverse("token_create"), {"name": "monitoring"})

    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret.startswith("itsmo_")
    assert secret in response.text
    assert ApiToken.objects.get(user=agent_mexico).name == "monitoring"
    again = agent_client.get(reverse("profile"))
    assert "monitoring" in again.text
    assert secret not in again.text


def test_token_create_through_htmx_answers_the_partial(agent_client):
    response = agent_client.post(
        reverse("token_create"), {"name": "ci"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert "<html" not in response.text
    assert response.context["secret"] in response.text


def test_token_without_name_is_refused(agent_client, agent_mexico):
    response = agent_client.post(reverse("token_create"), {"name": "  "})

    assert response.status_code == 422
    assert not ApiToken.objects.filter(user=agent_mexico).exists()


def test_token_expiring_in_the_past_is_refused(agent_client, agent_mexico):
    response = agent_client.post(
        reverse("token_create"), {"name": "old", "expires_on": "2000-01-01"}
    )

    assert response.status_code == 422
    assert "The expiry date must be in the future." in response.text
    assert not ApiToken.objects.filter(user=agent_mexico).exists()


def test_revoke_token(agent_client, agent_mexico):
    agent_client.post(reverse("token_create"), {"name": "monitoring"})
    token = ApiToken.objects.get(user=agent_mexico)

    response = agent_client.post(reverse("token_revoke", args=[token.pk]), follow=True)

    assert response.status_code == 200
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "revoked" in response.text


def test_cannot_revoke_someone_elses_token(client, agent_mexico, agent_brazil):
    client.force_login(agent_mexico)
    client.post(reverse("token_create"), {"name": "mine"})
    token = ApiToken.objects.get(user=agent_mexico)
    client.force_login(agent_brazil)

    response = client.post(reverse("token_revoke", args=[token.pk]))

    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoke_needs_post(agent_client, agent_mexico):
    agent_client.post(reverse("token_create"), {"name": "monitoring"})
    token = ApiToken.objects.get(user=agent_mexico)

    assert agent_client.get(reverse("token_revoke", args=[token.pk])).status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None


def test_pages_load_the_local_htmx_script_and_stylesheet(agent_client):
    response = agent_client.get("/")

    assert "/static/django_htmx/htmx-2.min.js" in response.text
    assert "/static/itsmo/itsmo.css" in response.text
    assert "https://" not in response.text


def test_password_change_refuses_two_different_new_passwords(agent_client, agent_mexico, password):
    before = User.objects.get(pk=agent_mexico.pk).password

    response = agent_client.post(
        reverse("password_change"),
        {
            "old_password": password,
            "new_password": "a-new-long-passphrase",
            "new_password_again": "another-long-passphrase",
        },
    )

    assert response.status_code == 422
    assert "The two new passwords do not match." in response.text
    assert User.objects.get(pk=agent_mexico.pk).password == before


def test_revoke_through_htmx_answers_the_partial(agent_client, agent_mexico):
    agent_client.post(reverse("token_create"), {"name": "monitoring"})
    token = ApiToken.objects.get(user=agent_mexico)

    response = agent_client.post(
        reverse("token_revoke", args=[token.pk]), headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="tokens"' in response.text
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_a_missing_page_keeps_the_layout_and_leads_home(agent_client):
    response = agent_client.get("/incidents/INC9999999/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html and "region outside your scope" in html
    assert "site-nav" in html  # the signed-in menu is still there
    assert 'href="/"' in html


def test_a_refused_action_explains_itself(client, end_user_mexico):
    accounts.update_preferences(end_user_mexico, language="en")
    client.force_login(end_user_mexico)
    response = client.post("/incidents/")  # staff only; an end user's POST is refused
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()


def test_a_server_error_page_needs_no_request_context(rf):
    from django.views.defaults import server_error

    response = server_error(rf.get("/anything/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong" in html and "itsmo.css" in html
