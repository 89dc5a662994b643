"""End to end in a real browser: an analyst opens a problem, links an incident, records the
root cause and workaround and makes it a known error, whose workaround article then shows
in knowledge; an agent of another region cannot open the problem."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from itsmo.knowledge.models import Article, ArticleType, State as ArticleState
from itsmo.problems.models import Problem, RcaMethod, Status
from tests.browser import MARKS, screenshot

pytestmark = MARKS

TITLE = "ERP postings time out at month end"
ROOT_CAUSE = "The closing batch locks the posting tables for the whole run."
WORKAROUND = "Post invoices before 18:00 or after the closing batch has finished."


def test_analyst_makes_a_known_error_and_its_workaround_shows_in_knowledge(
    sign_in,
    agent_mexico,
    agent_brazil,
    problem_manager_mexico,
    incident_mexico,
    server_mexico,
):
    # The analyst opens the problem from the problem list.
    page = sign_in(agent_mexico)
    page.click("#site-nav a[href='/problems/']")
    page.get_by_role("link", name="New problem").click()
    page.fill("#id_title", TITLE)
    page.fill("#id_description", "Invoice postings fail while the closing batch runs.")
    page.select_option("#id_impact", label="2 - Medium")
    page.select_option("#id_urgency", label="1 - High")
    page.select_option("#id_service", label="ERP")
    page.fill("#id_cis", server_mexico.number)
    page.select_option("#id_country", label="Mexico")
    page.select_option("#id_problem_manager", label=problem_manager_mexico.username)
    screenshot(page, "problems-new")
    page.get_by_role("button", name="Open problem").click()
    page.wait_for_url(re.compile(r"/problems/PRB\d+/$"))

    problem = Problem.objects.get(title=TITLE)
    expect(page.locator(".messages")).to_contain_text(f"Problem {problem.number} opened.")
    expect(page.locator(".record__crumbs")).to_contain_text("New")
    assert (problem.opened_by, problem.problem_manager) == (agent_mexico, problem_manager_mexico)
    assert (problem.country.code, problem.service.code, problem.priority) == ("MX", "erp", 2)
    assert list(problem.cis.all()) == [server_mexico]

    # Link the incident: the list of linked incidents is swapped in place.
    linked = page.locator("#incidents")
    linked.locator("input[name=numbers]").fill(incident_mexico.number)
    linked.get_by_role("button", name="Link").click()
    expect(page.locator("#incidents h2")).to_have_text("1 linked incident")
    expect(page.locator("#incidents tbody")).to_contain_text(incident_mexico.number)
    incident_mexico.refresh_from_db()
    assert incident_mexico.problem == problem

    # Root-cause analysis, then the root cause and the workaround, then known error.
    page.locator("#state").get_by_role("button", name="Start root-cause analysis").click()
    expect(page.locator(".messages")).to_contain_text("Now Root-cause analysis.")
    analysis = page.locator("#analysis")
    analysis.get_by_label("Analysis method").select_option(label="5 whys")
    analysis.get_by_label("Root cause", exact=True).fill(ROOT_CAUSE)
    analysis.get_by_label("Workaround", exact=True).fill(WORKAROUND)
    analysis.get_by_role("button", name="Save analysis").click()
    expect(page.locator(".messages")).to_contain_text("Analysis saved.")
    page.locator("#state").get_by_role("button", name="Mark as known error").click()
    expect(page.locator(".messages")).to_contain_text("Now Known error.")
    expect(page.locator(".record__crumbs")).to_contain_text("Known error")
    expect(page.locator("#analysis textarea[name=workaround]")).to_have_value(WORKAROUND)
    screenshot(page, "problems-known-error")

    problem.refresh_from_db()
    assert problem.status == Status.KNOWN_ERROR
    assert (problem.rca_method, problem.root_cause, problem.workaround) == (
        RcaMethod.FIVE_WHYS,
        ROOT_CAUSE,
        WORKAROUND,
    )
    assert problem.known_error_at is not None
    article = Article.objects.get(problem=problem)
    assert (article.article_type, article.state) == (
        ArticleType.KNOWN_ERROR,
        ArticleState.PUBLISHED,
    )

    # The workaround article is published in knowledge.
    page.click("#site-nav a[href='/knowledge/']")
    entry = page.locator(".kb-list li", has_text=f"Known error: {TITLE}")
    expect(entry).to_contain_text("Published")
    expect(entry).to_contain_text(article.number)
    entry.get_by_role("link", name=f"Known error: {TITLE}").click()
    page.wait_for_url(f"**/knowledge/{article.number}/")
    expect(page.locator(".kb-article")).to_contain_text(WORKAROUND)
    expect(page.locator(".kb-article")).to_contain_text(ROOT_CAUSE)
    expect(page.locator(".kb-grid aside")).to_contain_text(problem.number)
    screenshot(page, "problems-known-error-article")

    # An agent of Brazil neither finds it in the list nor opens it by its address.
    outsider = sign_in(agent_brazil)
    outsider.click("#site-nav a[href='/problems/']")
    outsider.wait_for_url("**/problems/")
    expect(outsider.locator("main")).not_to_contain_text(problem.number)
    response = outsider.goto(f"/problems/{problem.number}/")
    assert response.status == 404
    expect(outsider.locator("h1")).to_have_text("Page not found")
    expect(outsider.locator("body")).not_to_contain_text(TITLE)
    screenshot(outsider, "problems-other-region-404")


def test_linking_an_incident_leaves_the_other_forms_of_the_page_current(
    sign_in, agent_mexico, problem_mexico, incident_mexico
):
    page = sign_in(agent_mexico)
    page.goto(f"/problems/{problem_mexico.number}/")
    page.locator("#incidents input[name=numbers]").fill(incident_mexico.number)
    page.locator("#incidents").get_by_role("button", name="Link").click()
    expect(page.locator("#incidents h2")).to_have_text("1 linked incident")

    page.locator("#state").get_by_role("button", name="Start root-cause analysis").click()
    expect(page.locator(".messages, #conflict").first).to_be_visible()
    screenshot(page, "problems-link-then-transition")

    assert page.locator("#conflict").count() == 0
    problem_mexico.refresh_from_db()
    assert problem_mexico.status == Status.ROOT_CAUSE_ANALYSIS
