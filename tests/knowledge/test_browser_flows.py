"""End to end in a real browser: an author writes an article and sends it to review, a
knowledge manager publishes it, and an end user describing an incident in the portal is
offered it while typing."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from itsmo.knowledge.models import Article, ArticleType, State
from tests.browser import MARKS, screenshot

pytestmark = MARKS

TITLE = "Unlock a locked VPN token"
BODY = "## Steps\n\n1. Open the token app\n2. Press **Unlock**\n3. Connect to the VPN again"


def test_an_article_written_reviewed_and_published_is_suggested_in_the_portal(
    sign_in, agent_mexico, knowledge_manager, end_user_mexico, erp
):
    # The author writes the article and sends it to review.
    author = sign_in(agent_mexico)
    author.click("#site-nav a[href='/knowledge/']")
    author.get_by_role("link", name="New article").click()
    author.fill("#id_title", TITLE)
    author.fill("#id_body", BODY)
    author.select_option("#id_article_type", label="How-to")
    author.select_option("#id_services", label="ERP")
    screenshot(author, "knowledge-new")
    author.get_by_role("button", name="Save").click()
    author.wait_for_url(re.compile(r"/knowledge/KB\d+/$"))

    article = Article.objects.get()
    expect(author.locator(".messages")).to_contain_text(
        f"Article {article.number} saved as a draft."
    )
    expect(author.locator(".kb-article ol li")).to_have_text(
        ["Open the token app", "Press Unlock", "Connect to the VPN again"]
    )
    author.locator("#state").get_by_role("button", name="Submit for review").click()
    expect(author.locator(".messages")).to_contain_text(
        f"Article {article.number} is now In review."
    )
    expect(author.locator("#state").get_by_role("button", name="Publish")).to_have_count(0)
    article.refresh_from_db()
    assert (article.state, article.owner, article.article_type) == (
        State.REVIEW,
        agent_mexico,
        ArticleType.HOW_TO,
    )
    assert [s.code for s in article.services.all()] == ["erp"]

    # The knowledge manager finds it among the articles in review and publishes it.
    reviewer = sign_in(knowledge_manager)
    reviewer.click("#site-nav a[href='/knowledge/']")
    reviewer.select_option("#id_state", label="In review")
    reviewer.get_by_role("button", name="Search").click()
    reviewer.wait_for_url(re.compile(r"/knowledge/\?.*state=review"))
    reviewer.locator(".kb-list").get_by_role("link", name=TITLE).click()
    reviewer.wait_for_url(f"**/knowledge/{article.number}/")
    reviewer.locator("#state").get_by_role("button", name="Publish").click()
    expect(reviewer.locator(".messages")).to_contain_text(
        f"Article {article.number} is now Published."
    )
    screenshot(reviewer, "knowledge-published")
    article.refresh_from_db()
    assert article.state == State.PUBLISHED
    assert (article.revision, article.published_at is not None) == (1, True)

    # An end user reporting an incident is offered the article while typing, in place.
    user = sign_in(end_user_mexico)
    user.click("#site-nav a[href='/portal/']")
    user.get_by_role("link", name="Report an incident").click()
    user.wait_for_url("**/portal/report/")
    user.evaluate("window.stillTheSamePage = true")
    expect(user.locator("#knowledge-suggestions")).to_be_empty()
    user.locator("#id_short_description").press_sequentially("My VPN token is locked")
    suggestion = user.locator("#knowledge-suggestions").get_by_role("link", name=TITLE)
    expect(suggestion).to_be_visible()
    expect(suggestion).to_have_attribute("href", f"/portal/knowledge/{article.number}/")
    assert user.evaluate("window.stillTheSamePage") is True
    expect(user.locator("#id_short_description")).to_have_value("My VPN token is locked")
    screenshot(user, "knowledge-portal-suggestion")

    with user.context.expect_page() as opened:
        suggestion.click()
    reader = opened.value
    expect(reader.locator("h1")).to_have_text(TITLE)
    expect(reader.locator("main")).to_contain_text("Connect to the VPN again")
    screenshot(reader, "knowledge-portal-article")
