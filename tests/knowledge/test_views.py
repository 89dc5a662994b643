"""Knowledge pages, the portal's suggestions and the agent's resolve-with-article panel."""

from __future__ import annotations

import pytest
from django.urls import reverse

from itsmo.accounts import services as accounts
from itsmo.incidents.models import Status
from itsmo.knowledge import services
from itsmo.knowledge.models import Article, ArticleUse, State

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_agent(client, agent_mexico):
    accounts.update_preferences(agent_mexico, language="en")
    client.force_login(agent_mexico)
    return client


@pytest.fixture
def as_user(client, end_user_mexico):
    accounts.update_preferences(end_user_mexico, language="en")
    client.force_login(end_user_mexico)
    return client


def test_anonymous_is_sent_to_sign_in(client, published):
    for url in (
        reverse("knowledge:list"),
        reverse("knowledge:detail", args=[published.number]),
        reverse("portal:suggestions"),
        reverse("portal:article", args=[published.number]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_list_search_and_filters(as_agent, published, draft):
    page = as_agent.get(reverse("knowledge:list")).content.decode()
    assert published.number in page and draft.number in page

    found = as_agent.get(reverse("knowledge:list"), {"q": "printer"}).content.decode()
    assert published.number in found and draft.number not in found

    drafts = as_agent.get(reverse("knowledge:list"), {"state": "draft"}).content.decode()
    assert draft.number in drafts and published.number not in drafts


def test_end_users_list_and_read_published_only(as_user, published, draft):
    page = as_user.get(reverse("knowledge:list")).content.decode()
    assert published.number in page and draft.number not in page
    assert as_user.get(reverse("knowledge:detail", args=[draft.number])).status_code == 404
    article = as_user.get(reverse("knowledge:detail", args=[published.number])).content.decode()
    assert "Open tray 2" in article
    assert "Submit for review" not in article


def test_article_page_renders_markdown_safely_in_the_chosen_language(as_agent, agent_mexico):
    article = services.create_article(
        actor=agent_mexico, title="Reset", body="**Press** reset <script>alert(1)</script>"
    )
    services.save_translation(
        article, actor=agent_mexico, language="es", title="Restablecer", body="Pulse *reset*"
    )
    url = reverse("knowledge:detail", args=[article.number])

    english = as_agent.get(url).content.decode()
    spanish = as_agent.get(url, {"lang": "es"}).content.decode()
    portuguese = as_agent.get(url, {"lang": "pt"}).content.decode()

    assert "<strong>Press</strong>" in english and "<script>alert" not in english
    assert "<em>reset</em>" in spanish
    assert "Reset" in portuguese and "original language" in portuguese


def test_create_edit_translate_and_publish_through_the_pages(
    client, as_agent, agent_mexico, knowledge_manager, erp
):
    response = as_agent.post(
        reverse("knowledge:new"),
        {
            "article_type": "faq",
            "language": "en",
            "services": [erp.pk],
            "title": "Where is my payslip?",
            "body": "In the HR portal.",
        },
    )
    article = Article.objects.get()
    assert response.status_code == 302
    assert article.state == State.DRAFT

    edit = reverse("knowledge:edit", args=[article.number]) + "?lang=pt"
    response = as_agent.post(
        edit,
        {
            "version": article.version,
            "article_type": "faq",
            "language": "en",
            "services": [erp.pk],
            "title": "Onde está meu holerite?",
            "body": "No portal de RH.",
        },
    )
    assert response.status_code == 302
    assert services.reload(article).translation("pt").title == "Onde está meu holerite?"

    stale = as_agent.post(
        edit,
        {
            "version": 1,
            "article_type": "faq",
            "language": "en",
            "title": "x",
            "body": "y",
        },
    )
    assert stale.status_code == 422
    assert "changed by someone else" in stale.content.decode()

    transition = reverse("knowledge:transition", args=[article.number])
    as_agent.post(transition, {"to": "review"})
    client.force_login(knowledge_manager)
    detail = client.get(reverse("knowledge:detail", args=[article.number])).content.decode()
    assert "Publish" in detail
    client.post(transition, {"to": "published"})
    article.refresh_from_db()
    assert article.state == State.PUBLISHED


def test_end_users_cannot_reach_the_editor(as_user, published):
    assert as_user.get(reverse("knowledge:new")).status_code == 403
    assert as_user.get(reverse("knowledge:edit", args=[published.number])).status_code == 403
    response = as_user.post(
        reverse("knowledge:transition", args=[published.number]), {"to": "retired"}
    )
    assert response.status_code == 403
    published.refresh_from_db()
    assert published.state == State.PUBLISHED


def test_portal_report_form_asks_for_suggestions_while_typing(as_user):
    page = as_user.get(reverse("portal:report")).content.decode()

    assert reverse("portal:suggestions") in page
    assert "keyup changed delay:400ms" in page


def test_portal_suggestions_show_matching_published_articles(
    as_user, published, draft, agent_mexico
):
    services.save_translation(
        published, actor=agent_mexico, language="es", title="La impresora se atasca", body="Abra"
    )
    response = as_user.get(
        reverse("portal:suggestions"),
        {"short_description": "printer jams", "description": "vpn token printer"},
    )
    text = response.content.decode()

    assert response.status_code == 200
    assert reverse("portal:article", args=[published.number]) in text
    assert draft.number not in text
    assert "Printer jams on every page" in text

    spanish = as_user.get(
        reverse("portal:suggestions"), {"short_description": "printer"}, HTTP_ACCEPT_LANGUAGE="es"
    )
    assert "Printer jams" in spanish.content.decode()  # the user's own language wins


def test_portal_suggestions_are_empty_for_empty_text(as_user, published):
    response = as_user.get(reverse("portal:suggestions"), {"short_description": "the"})
    assert response.status_code == 200
    assert published.number not in response.content.decode()


def test_portal_article_page(as_user, published, draft):
    response = as_user.get(reverse("portal:article", args=[published.number]))
    assert response.status_code == 200
    assert "Open tray 2" in response.content.decode()
    assert as_user.get(reverse("portal:article", args=[draft.number])).status_code == 404
    as_user.post(
        reverse("knowledge:vote", args=[published.number]), {"helpful": "yes", "next": "portal"}
    )
    published.refresh_from_db()
    assert (published.helpful_count, published.view_count) == (1, 1)


def test_incident_page_loads_the_resolve_panel(as_agent, incident_mexico):
    page = as_agent.get(reverse("incidents:detail", args=[incident_mexico.number])).content
    assert reverse("knowledge:resolve_panel", args=[incident_mexico.number]) in page.decode()


def test_resolve_panel_suggests_and_searches(as_agent, incident_mexico, published):
    url = reverse("knowledge:resolve_panel", args=[incident_mexico.number])

    suggested = as_agent.get(url).content.decode()  # "Printer jams" is the incident's text
    searched = as_agent.get(url, {"q": "fuser", "results": "1"}).content.decode()
    nothing = as_agent.get(url, {"q": "zzzz", "results": "1"}).content.decode()

    assert published.number in suggested
    assert published.number in searched
    assert published.number not in nothing


def test_resolve_with_article_from_the_incident_page(as_agent, incident_mexico, published):
    response = as_agent.post(
        reverse("knowledge:resolve_incident", args=[incident_mexico.number]),
        {
            "article": published.number,
            "version": incident_mexico.version,
            "resolution_code": "workaround",
            "notes": "Cleared the tray with the caller.",
        },
    )

    assert response.status_code == 302
    incident_mexico.refresh_from_db()
    assert incident_mexico.status == Status.RESOLVED
    assert incident_mexico.resolution_code == "workaround"
    assert incident_mexico.resolution_notes.startswith("Cleared the tray")
    assert published.number in incident_mexico.resolution_notes
    assert ArticleUse.objects.filter(article=published, incident=incident_mexico).exists()
    panel = as_agent.get(reverse("knowledge:resolve_panel", args=[incident_mexico.number]))
    assert "Resolved with" in panel.content.decode()


def test_resolve_with_a_stale_version_changes_nothing(as_agent, incident_mexico, published):
    response = as_agent.post(
        reverse("knowledge:resolve_incident", args=[incident_mexico.number]),
        {"article": published.number, "version": incident_mexico.version + 5},
    )

    assert response.status_code == 302
    incident_mexico.refresh_from_db()
    assert incident_mexico.status == Status.NEW
    assert not ArticleUse.objects.exists()


def test_end_users_cannot_use_the_resolve_panel(as_user, incident_mexico, published):
    url = reverse("knowledge:resolve_panel", args=[incident_mexico.number])
    assert as_user.get(url).status_code == 403
    post = reverse("knowledge:resolve_incident", args=[incident_mexico.number])
    assert as_user.post(post, {"article": published.number}).status_code == 403
    incident_mexico.refresh_from_db()
    assert incident_mexico.status == Status.NEW


def test_navigation_leads_to_the_knowledge_list(as_user):
    page = as_user.get(reverse("portal:home")).content.decode()
    assert reverse("knowledge:list") in page
