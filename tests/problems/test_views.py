"""The problem pages through the Django test client: permissions, list, record, candidates."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from itsmo.accounts import services as accounts
from itsmo.problems import services
from itsmo.problems.models import CandidateState, Problem, ProblemCandidate, Status

pytestmark = pytest.mark.django_db
UNTIL = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)


def _login(client, user):
    accounts.update_preferences(user, language="en")
    client.force_login(user)
    return client


def test_anonymous_is_sent_to_sign_in(client, problem_mexico):
    for url in (
        reverse("problems:list"),
        reverse("problems:candidates"),
        reverse("problems:detail", args=[problem_mexico.number]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_an_end_user_is_sent_to_the_portal(client, end_user_mexico, problem_mexico):
    _login(client, end_user_mexico)
    response = client.get(reverse("problems:list"))
    assert response.status_code == 302
    response = client.post(reverse("problems:comment", args=[problem_mexico.number]), {"body": "x"})
    assert response.status_code == 403


def test_another_region_gets_404(client, agent_brazil, problem_mexico):
    _login(client, agent_brazil)
    assert client.get(reverse("problems:detail", args=[problem_mexico.number])).status_code == 404
    url = reverse("problems:transition", args=[problem_mexico.number])
    assert client.post(url, {"to": "assessed", "version": 1}).status_code == 404
    assert problem_mexico.number not in client.get(reverse("problems:list")).content.decode()


def test_list_detail_and_navigation(client, agent_mexico, problem_mexico):
    _login(client, agent_mexico)
    page = client.get(reverse("problems:list")).content.decode()
    assert problem_mexico.number in page and problem_mexico.title in page
    assert 'href="/problems/"' in client.get("/").content.decode()
    filtered = client.get(reverse("problems:list"), {"state": "closed"}).content.decode()
    assert problem_mexico.number not in filtered
    detail = client.get(reverse("problems:detail", args=[problem_mexico.number]))
    assert detail.status_code == 200
    html = detail.content.decode()
    assert "Assess" in html and "Start root-cause analysis" in html


def test_the_list_searches_the_full_text_in_the_user_s_scope(
    client, agent_mexico, agent_brazil, problem_mexico
):
    services.add_comment(
        problem_mexico, actor=agent_mexico, body="Oracle undo tablespace full", internal=False
    )
    link = f'href="{reverse("problems:detail", args=[problem_mexico.number])}"'
    _login(client, agent_mexico)
    for query in (problem_mexico.number, "posting month", "batch runs", "undo tablespace"):
        page = client.get(reverse("problems:list"), {"q": query}).content.decode()
        assert link in page, query
    page = client.get(reverse("problems:list"), {"q": "spooler"}).content.decode()
    assert link not in page and "No problems match." in page
    _login(client, agent_brazil)
    page = client.get(reverse("problems:list"), {"q": problem_mexico.number}).content.decode()
    assert link not in page and "No problems match." in page


def test_new_problem_form(client, agent_mexico, erp, server_mexico):
    _login(client, agent_mexico)
    assert client.get(reverse("problems:new")).status_code == 200
    bad = client.post(reverse("problems:new"), {"title": "", "impact": 2, "urgency": 2})
    assert bad.status_code == 422
    response = client.post(
        reverse("problems:new"),
        {"title": "Mail delays", "impact": 2, "urgency": 3, "cis": server_mexico.number},
    )
    problem = Problem.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{problem.number}/")
    assert list(problem.cis.all()) == [server_mexico]


def test_lifecycle_buttons_and_guard_errors_on_the_page(client, agent_mexico, problem_mexico):
    _login(client, agent_mexico)
    number = problem_mexico.number
    url = reverse("problems:transition", args=[number])
    client.post(url, {"to": "root_cause_analysis", "version": problem_mexico.version})
    problem_mexico.refresh_from_db()
    refused = client.post(url, {"to": "known_error", "version": problem_mexico.version})
    assert refused.status_code == 422
    assert "root cause is required" in refused.content.decode()
    analysis = reverse("problems:analysis", args=[number])
    saved = client.post(
        analysis,
        {
            "version": problem_mexico.version,
            "rca_method": "ishikawa",
            "root_cause": "Table lock during the batch",
            "workaround": "Post again after 22:00",
        },
    )
    assert saved.status_code == 302
    problem_mexico.refresh_from_db()
    client.post(url, {"to": "known_error", "version": problem_mexico.version})
    problem_mexico.refresh_from_db()
    assert problem_mexico.status == Status.KNOWN_ERROR
    stale = client.post(
        reverse("problems:update", args=[number]),
        {"version": 1, "title": "Other", "impact": 2, "urgency": 2},
    )
    assert stale.status_code == 409


def test_link_and_unlink_incidents_with_htmx(client, agent_mexico, problem_mexico, incident_mexico):
    _login(client, agent_mexico)
    url = reverse("problems:link_incidents", args=[problem_mexico.number])
    response = client.post(url, {"numbers": incident_mexico.number}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert incident_mexico.number in response.content.decode()
    assert problem_mexico.incidents.count() == 1
    bad = client.post(url, {"numbers": "INC404"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 422 and "No incident INC404" in bad.content.decode()
    remove = reverse(
        "problems:unlink_incident", args=[problem_mexico.number, incident_mexico.number]
    )
    assert client.post(remove, HTTP_HX_REQUEST="true").status_code == 200
    assert problem_mexico.incidents.count() == 0


def test_tasks_and_work_notes(client, agent_mexico, problem_mexico):
    _login(client, agent_mexico)
    number = problem_mexico.number
    client.post(reverse("problems:add_task", args=[number]), {"title": "Trace the batch"})
    task = problem_mexico.tasks.get()
    client.post(reverse("problems:task_state", args=[number, task.number]), {"status": "done"})
    task.refresh_from_db()
    assert task.status == "done"
    client.post(reverse("problems:comment", args=[number]), {"body": "Vendor ticket 42"})
    assert (
        "Vendor ticket 42" in client.get(reverse("problems:detail", args=[number])).content.decode()
    )


def test_candidate_page_accept_and_dismiss(client, agent_mexico, recurring):
    candidate = services.detect_candidates(until=UNTIL)[0]
    _login(client, agent_mexico)
    page = client.get(reverse("problems:candidates")).content.decode()
    assert "5 incidents" in page and recurring[0].number in page
    response = client.post(
        reverse("problems:candidate_accept", args=[candidate.pk]), {"title": "ERP timeouts"}
    )
    problem = Problem.objects.get()
    assert response.status_code == 302 and problem.title == "ERP timeouts"
    assert problem.incidents.count() == 5
    again = client.post(reverse("problems:candidate_dismiss", args=[candidate.pk]))
    assert again.status_code == 302
    assert ProblemCandidate.objects.get().state == CandidateState.ACCEPTED


def test_candidate_page_merge(client, agent_mexico, recurring, problem_mexico):
    candidate = services.detect_candidates(until=UNTIL)[0]
    _login(client, agent_mexico)
    response = client.post(
        reverse("problems:candidate_merge", args=[candidate.pk]), {"problem": problem_mexico.number}
    )
    assert response.status_code == 302
    assert problem_mexico.incidents.count() == 5
