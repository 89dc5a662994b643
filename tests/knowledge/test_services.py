"""Knowledge services: lifecycle, translations, search, known errors, resolving with articles."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from itsmo.core.errors import PermissionDenied, StaleVersion, TransitionNotAllowed, ValidationFailed
from itsmo.core.models import JournalEntry, JournalKind
from itsmo.incidents.models import Status
from itsmo.knowledge import markup, services
from itsmo.knowledge.models import Article, ArticleType, ArticleUse, State
from itsmo.problems.models import Problem
from itsmo.search import services as search

pytestmark = pytest.mark.django_db


# -- lifecycle -----------------------------------------------------------------------------


def test_a_new_article_is_a_numbered_journaled_draft(draft, agent_mexico):
    assert draft.number.startswith("KB")
    assert draft.state == State.DRAFT
    assert draft.owner == agent_mexico
    assert draft.title == "Reset the VPN token"
    assert JournalEntry.objects.for_record(draft).filter(kind=JournalKind.CREATED).exists()


def test_draft_review_published_retired_and_back_to_draft(draft, agent_mexico, knowledge_manager):
    services.transition(draft, "review", actor=agent_mexico)
    services.transition(draft, "published", actor=knowledge_manager)
    assert (draft.state, draft.revision) == (State.PUBLISHED, 1)
    assert draft.published_at is not None

    services.transition(draft, "draft", actor=agent_mexico, note="update for the new app")
    services.transition(draft, "review", actor=agent_mexico)
    services.transition(draft, "published", actor=knowledge_manager)
    services.transition(draft, "retired", actor=knowledge_manager)

    draft.refresh_from_db()
    assert (draft.state, draft.revision) == (State.RETIRED, 2)
    states = JournalEntry.objects.for_record(draft).filter(kind=JournalKind.STATE_CHANGE)
    assert [e.new_value for e in states] == [
        "review",
        "published",
        "draft",
        "review",
        "published",
        "retired",
    ]


def test_a_draft_cannot_skip_review(draft, knowledge_manager):
    with pytest.raises(TransitionNotAllowed):
        services.transition(draft, "published", actor=knowledge_manager)
    draft.refresh_from_db()
    assert draft.state == State.DRAFT


def test_only_knowledge_managers_publish(draft, agent_mexico):
    services.transition(draft, "review", actor=agent_mexico)

    with pytest.raises(PermissionDenied):
        services.transition(draft, "published", actor=agent_mexico)

    draft.refresh_from_db()
    assert draft.state == State.REVIEW
    assert services.next_states(draft, agent_mexico) == ["draft"]


def test_end_users_cannot_write(end_user_mexico):
    with pytest.raises(PermissionDenied):
        services.create_article(actor=end_user_mexico, title="x", body="y")
    assert not Article.objects.exists()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"title": " "}, "title"),
        ({"body": ""}, "body"),
        ({"language": "fr"}, "language"),
        ({"article_type": "rumour"}, "type"),
    ],
)
def test_bad_input_names_the_field_and_creates_nothing(agent_mexico, values, field):
    arguments = {"title": "Title", "body": "Body", **values}
    with pytest.raises(ValidationFailed) as error:
        services.create_article(actor=agent_mexico, **arguments)
    assert error.value.field == field
    assert not Article.objects.exists()


def test_a_stale_version_is_refused(draft, agent_mexico):
    services.update_article(
        draft, actor=agent_mexico, version=draft.version, article_type=ArticleType.FAQ
    )

    with pytest.raises(StaleVersion):
        services.update_article(draft, actor=agent_mexico, version=1, article_type="how_to")

    draft.refresh_from_db()
    assert draft.article_type == ArticleType.FAQ


# -- translations --------------------------------------------------------------------------


def test_translations_and_fallback_to_the_original_language(draft, agent_mexico):
    services.save_translation(
        draft, actor=agent_mexico, language="es", title="Restablecer el token", body="Pasos…"
    )
    draft = services.reload(draft)

    assert draft.translation("es").title == "Restablecer el token"
    assert draft.translation("pt").title == "Reset the VPN token"  # falls back to English
    changes = JournalEntry.objects.for_record(draft).filter(field="title [es]")
    assert changes.get().new_value == "Restablecer el token"


def test_the_original_language_needs_a_translation(draft, agent_mexico):
    with pytest.raises(ValidationFailed) as error:
        services.update_article(draft, actor=agent_mexico, version=None, language="pt")
    assert error.value.field == "language"


def test_bodies_are_sanitised_on_render():
    html = markup.to_html("**ok** <script>alert(1)</script> [x](javascript:alert(1))")

    assert "<strong>ok</strong>" in html
    assert "<script>" not in html
    assert "javascript:" not in html.replace("[x](javascript:alert(1))", "")


# -- search --------------------------------------------------------------------------------


def test_end_users_find_published_articles_only(
    draft, published, end_user_mexico, agent_mexico, agent_brazil
):
    services.save_translation(
        draft, actor=agent_mexico, language="en", title="Printer driver install", body="Steps"
    )

    for_user = list(search.search(Article, "printer", end_user_mexico))
    for_staff = set(search.search(Article, "printer", agent_brazil))

    assert for_user == [published]
    assert for_staff == {published, draft}


def test_search_finds_an_article_in_any_of_its_languages(published, agent_mexico, end_user_mexico):
    services.save_translation(
        published,
        actor=agent_mexico,
        language="pt",
        title="Impressora trava em todas as páginas",
        body="Abra a bandeja",
    )

    assert list(search.search(Article, "impressora", end_user_mexico)) == [published]


def test_suggestions_match_any_meaningful_word(published, end_user_mexico, draft):
    found = services.suggest("my printer is broken, it jams the paper", end_user_mexico)

    assert found == [published]
    assert services.suggest("it is the", end_user_mexico) == []


# -- known errors --------------------------------------------------------------------------


def _problem(number="PRB0001001", title="Invoices stuck in the spool"):
    return Problem.objects.create(number=number, title=title)


def test_publish_known_error_creates_a_published_article(erp, smo_analyst):
    problem = _problem()
    problem.root_cause = "The spool server loses its printer queue after patching."
    problem.workaround = "Restart the SAP spool work process (SM50)."
    problem.service = erp

    article = services.publish_known_error(problem, actor=smo_analyst)

    assert article.state == State.PUBLISHED
    assert article.article_type == ArticleType.KNOWN_ERROR
    assert article.problem_id == problem.pk
    assert list(article.services.all()) == [erp]
    body = article.translation().body
    assert "SM50" in body and "patching" in body and "PRB0001001" in body


def test_publish_known_error_is_idempotent_and_updates_the_article(smo_analyst, agent_mexico):
    problem = _problem()
    problem.workaround = "Restart the spool."
    first = services.publish_known_error(problem, actor=smo_analyst)
    again = services.publish_known_error(problem, actor=smo_analyst)
    assert again.pk == first.pk
    assert again.version == first.version  # nothing changed, nothing written

    problem.workaround = "Apply note 123 then restart the spool."
    services.transition(again, "draft", actor=agent_mexico)  # someone started a revision
    updated = services.publish_known_error(problem, actor=smo_analyst)

    assert Article.objects.count() == 1
    assert updated.state == State.PUBLISHED
    assert "note 123" in updated.translation().body
    assert updated.revision == 2


def test_publish_known_error_takes_a_plain_object(smo_analyst):
    problem = SimpleNamespace(
        pk=None, number="PRB9", title="Slow VPN", root_cause="", workaround="Use the web VPN."
    )

    article = services.publish_known_error(problem, actor=smo_analyst)

    assert article.problem is None
    assert article.title == "Known error: Slow VPN"


# -- resolving incidents -------------------------------------------------------------------


def test_resolve_with_article_resolves_and_records_the_use(
    incident_mexico, published, agent_mexico
):
    use = services.resolve_with_article(incident_mexico, published, actor=agent_mexico)

    incident_mexico.refresh_from_db()
    assert incident_mexico.status == Status.RESOLVED
    assert incident_mexico.resolution_code == "user_education"
    assert published.number in incident_mexico.resolution_notes
    assert "Printer jams on every page" in incident_mexico.resolution_notes
    assert f"/knowledge/{published.number}/" in incident_mexico.resolution_notes
    assert use.article == published and use.used_by == agent_mexico
    assert published.uses.count() == 1


def test_resolve_with_a_draft_or_a_closed_incident_changes_nothing(
    incident_mexico, draft, published, agent_mexico
):
    with pytest.raises(ValidationFailed):
        services.resolve_with_article(incident_mexico, draft, actor=agent_mexico)
    with pytest.raises(ValidationFailed):
        services.resolve_with_article(
            incident_mexico, published, actor=agent_mexico, resolution_code="duplicate"
        )
    services.resolve_with_article(incident_mexico, published, actor=agent_mexico)
    with pytest.raises(TransitionNotAllowed):
        services.resolve_with_article(incident_mexico, published, actor=agent_mexico)

    assert ArticleUse.objects.count() == 1


def test_end_users_cannot_resolve_with_an_article(incident_mexico, published, end_user_mexico):
    with pytest.raises(PermissionDenied):
        services.resolve_with_article(incident_mexico, published, actor=end_user_mexico)
    incident_mexico.refresh_from_db()
    assert incident_mexico.status == Status.NEW


def test_votes_and_views_are_counted(published, end_user_mexico, draft):
    services.record_view(published)
    services.vote(published, actor=end_user_mexico, helpful=True)
    services.vote(published, actor=end_user_mexico, helpful=False)
    published.refresh_from_db()

    assert (published.view_count, published.helpful_count, published.not_helpful_count) == (
        1,
        1,
        1,
    )
    with pytest.raises(TransitionNotAllowed):
        services.vote(draft, actor=end_user_mexico, helpful=True)


def test_reindex_keeps_every_record_type(published, open_mexico_incident, end_user_mexico):
    from django.core.management import call_command
    from django.db import connection

    from itsmo.incidents.models import Incident
    from itsmo.search.models import SearchDocument

    incident = open_mexico_incident(short_description="Printer on fire")

    call_command("search_reindex", verbosity=0)

    assert SearchDocument.objects.count() == 2
    assert list(search.search(Article, "printer", end_user_mexico)) == [published]
    assert list(search.search(Incident, "printer", end_user_mexico)) == [incident]
    services.transition(published, "retired", actor=None)
    Article.objects.filter(pk=published.pk).delete()
    assert SearchDocument.objects.count() == 1
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM search_fts")
            assert cursor.fetchone()[0] == 1


def test_retire_known_error_when_the_problem_is_fixed(smo_analyst):
    problem = _problem()
    problem.workaround = "Restart the spool."
    assert services.retire_known_error(problem) is None
    services.publish_known_error(problem, actor=smo_analyst)

    retired = services.retire_known_error(problem, actor=smo_analyst)
    again = services.retire_known_error(problem, actor=smo_analyst)

    assert retired.state == again.state == State.RETIRED
    assert again.version == retired.version
