"""The Django admin: operational records are looked at there, never edited; the priority
matrix is configuration, edited there and seen at once by the next incident."""

from __future__ import annotations

import pytest

from itsmo.accounts import services as accounts
from itsmo.incidents import services as incidents
from itsmo.incidents.models import Channel, PriorityMatrixCell

pytestmark = pytest.mark.django_db

READ_ONLY = [
    "incidents/incident",
    "incidents/category",
    "problems/problem",
    "problems/problemcandidate",
    "knowledge/article",
    "changes/change",
    "cmdb/ci",
    "catalog/service",
    "communications/notification",
]


@pytest.fixture
def admin_site(client, admin_user):
    assert admin_user.is_staff  # a superuser gets Django's staff flag
    accounts.update_preferences(admin_user, language="en")
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("model", READ_ONLY)
def test_records_are_listed_but_cannot_be_added(admin_site, model):
    assert admin_site.get(f"/admin/{model}/").status_code == 200
    assert admin_site.get(f"/admin/{model}/add/").status_code == 403


def test_an_article_and_a_problem_open_read_only(
    admin_site, agent_mexico, smo_analyst, mexico, open_mexico_incident
):
    from itsmo.knowledge import services as knowledge
    from itsmo.problems import services as problems

    article = knowledge.create_article(actor=agent_mexico, title="Reset a token", body="Steps")
    problem = problems.open_problem(title="Tokens lock", actor=smo_analyst, country=mexico)
    for url in (
        f"/admin/knowledge/article/{article.pk}/change/",
        f"/admin/problems/problem/{problem.pk}/change/",
    ):
        page = admin_site.get(url)
        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()  # no save button: view only
    incident = open_mexico_incident(short_description="Printer")
    assert (
        admin_site.post(
            f"/admin/incidents/incident/{incident.pk}/change/", {"short_description": "x"}
        ).status_code
        == 403
    )


def test_a_matrix_cell_set_in_the_admin_prioritises_the_next_incident(
    admin_site, open_mexico_incident
):
    assert open_mexico_incident(impact=2, urgency=2, channel=Channel.PHONE).priority == 3
    response = admin_site.post(
        "/admin/incidents/prioritymatrixcell/add/", {"impact": 2, "urgency": 2, "priority": 2}
    )
    assert response.status_code == 302
    assert PriorityMatrixCell.objects.get(impact=2, urgency=2).priority == 2
    assert open_mexico_incident(impact=2, urgency=2).priority == 2
    assert incidents.compute_priority(2, 2) == 2
    # The same cell twice is refused with the form's message, nothing changes.
    again = admin_site.post(
        "/admin/incidents/prioritymatrixcell/add/", {"impact": 2, "urgency": 2, "priority": 1}
    )
    assert again.status_code == 200 and "already exists" in again.content.decode()
    assert PriorityMatrixCell.objects.get(impact=2, urgency=2).priority == 2
