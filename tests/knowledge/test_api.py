"""The knowledge API: list/search, create, read, PATCH with versions, transitions."""

from __future__ import annotations

import pytest

from itsmo.knowledge import services
from itsmo.knowledge.models import Article, State
from tests.api.conftest import assert_problem

pytestmark = pytest.mark.django_db


def test_anonymous_gets_401(api_as):
    assert_problem(api_as(None).get("/knowledge"), 401)


def test_create_with_translations_then_read_in_a_language(api_as, agent_mexico, erp):
    client = api_as(agent_mexico)

    response = client.post(
        "/knowledge",
        {
            "type": "faq",
            "title": "How do I reset my password?",
            "body": "Go to **My account**.",
            "services": ["erp"],
            "translations": [
                {
                    "language": "es",
                    "title": "¿Cómo cambio mi contraseña?",
                    "body": "Ve a Mi cuenta.",
                }
            ],
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"].startswith("KB")
    assert (body["state"], body["type"], body["services"]) == ("draft", "faq", ["erp"])
    assert "<strong>My account</strong>" in body["body_html"]
    spanish = client.get(f"/knowledge/{body['number']}", {"language": "es"}).json()
    assert spanish["title"] == "¿Cómo cambio mi contraseña?"
    portuguese = client.get(f"/knowledge/{body['number']}", {"language": "pt"}).json()
    assert (portuguese["title"], portuguese["text_language"]) == (
        "How do I reset my password?",
        "en",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "T", "body": "B", "services": ["nope"]}, "services"),
        ({"title": "T", "body": "B", "language": "fr"}, "language"),
        ({"title": "", "body": "B"}, "title"),
        ({"title": "T", "body": "B", "type": "rumour"}, "type"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(api_as, agent_mexico, erp, body, field):
    response = api_as(agent_mexico).post("/knowledge", body)

    problem = assert_problem(response, 422)
    assert problem["field"] == field
    assert not Article.objects.exists()


def test_end_users_cannot_create(api_as, end_user_mexico):
    assert_problem(api_as(end_user_mexico).post("/knowledge", {"title": "T", "body": "B"}), 403)
    assert not Article.objects.exists()


def test_list_search_and_filters(api_as, published, draft, end_user_mexico, agent_mexico):
    staff = api_as(agent_mexico)
    user = api_as(end_user_mexico)

    assert user.get("/knowledge").json()["count"] == 1
    assert staff.get("/knowledge").json()["count"] == 2
    assert [a["number"] for a in user.get("/knowledge", {"q": "printer"}).json()["items"]] == [
        published.number
    ]
    assert user.get("/knowledge", {"q": "vpn"}).json()["count"] == 0  # a draft
    assert staff.get("/knowledge", {"q": "vpn"}).json()["count"] == 1
    assert staff.get("/knowledge", {"state": "draft"}).json()["count"] == 1
    assert staff.get("/knowledge", {"type": "faq"}).json()["count"] == 0
    assert staff.get("/knowledge", {"service": "erp"}).json()["count"] == 2
    assert staff.get("/knowledge", {"language": "es"}).json()["count"] == 0
    assert_problem(staff.get("/knowledge", {"language": "xx"}), 422)


def test_end_users_do_not_see_drafts(api_as, draft, end_user_mexico):
    assert_problem(api_as(end_user_mexico).get(f"/knowledge/{draft.number}"), 404)


def test_patch_with_a_stale_version_is_a_409_and_changes_nothing(api_as, draft, agent_mexico):
    client = api_as(agent_mexico)
    url = f"/knowledge/{draft.number}"

    ok = client.request(
        "PATCH",
        url,
        {
            "version": draft.version,
            "type": "faq",
            "translations": [{"language": "pt", "title": "Redefinir o token", "body": "Passos"}],
        },
    )
    assert ok.status_code == 200, ok.content
    assert ok.json()["type"] == "faq"
    assert {t["language"] for t in ok.json()["translations"]} == {"en", "pt"}

    stale = client.request("PATCH", url, {"version": draft.version, "type": "how_to"})

    problem = assert_problem(stale, 409)
    assert problem["field"] == "version"
    assert problem["current"]["type"] == "faq"
    draft.refresh_from_db()
    assert draft.article_type == "faq"


def test_patch_bad_category_is_a_422(api_as, draft, agent_mexico):
    response = api_as(agent_mexico).request(
        "PATCH", f"/knowledge/{draft.number}", {"version": draft.version, "category": 999}
    )
    assert assert_problem(response, 422)["field"] == "category"


def test_transitions(api_as, draft, agent_mexico, knowledge_manager):
    url = f"/knowledge/{draft.number}/transitions"

    review = api_as(agent_mexico).post(url, {"to": "review"})
    assert review.json()["state"] == "review"
    assert_problem(api_as(agent_mexico).post(url, {"to": "published"}), 403)
    published = api_as(knowledge_manager).post(url, {"to": "published"})
    assert published.json()["state"] == "published"
    assert_problem(api_as(knowledge_manager).post(url, {"to": "review"}), 409)
    assert_problem(api_as(knowledge_manager).post(url, {"to": "nowhere"}), 422)
    draft.refresh_from_db()
    assert draft.state == State.PUBLISHED


def test_journal_of_an_article_is_for_staff(api_as, draft, agent_mexico, end_user_mexico):
    services.transition(draft, "review", actor=agent_mexico)
    entries = api_as(agent_mexico).get(f"/journal/article/{draft.pk}").json()
    assert entries["count"] >= 2
    assert_problem(api_as(end_user_mexico).get(f"/journal/article/{draft.pk}"), 404)


@pytest.mark.parametrize("query", [{}, {"q": "printer"}])
def test_list_query_budget(
    api_as, publish, erp, end_user_mexico, query, django_assert_max_num_queries
):
    for number in range(12):
        publish(f"Printer guide {number}", "Steps", services=[erp])
    client = api_as(end_user_mexico)

    with django_assert_max_num_queries(10):
        response = client.get("/knowledge", {**query, "page_size": 500})

    assert response.json()["count"] == 12
