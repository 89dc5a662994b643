"""The navigation is data: every entry resolves, keys are unique, roles filter it."""

from __future__ import annotations

from django.utils import translation

from itsmo.web import navigation


def test_keys_are_unique():
    keys = [entry.key for entry in navigation.all_entries()]

    assert len(keys) == len(set(keys))


def test_every_entry_resolves_and_unbuilt_ones_explain_themselves(db):
    for entry in navigation.all_entries():
        assert entry.url().startswith("/")
        if not entry.is_available:
            assert str(entry.summary)


def test_every_area_of_the_product_is_listed():
    with translation.override("en"):
        labels = {str(entry.label) for entry in navigation.all_entries()}

    assert {
        "Service desk",
        "Incidents",
        "Problems",
        "Changes",
        "Requests",
        "CMDB",
        "Services",
        "Knowledge",
        "Indicators",
        "Processes",
        "Assessments",
        "Audits",
        "Committees",
        "Improvements",
        "Bulletins",
        "Django admin",
    } <= labels


def test_menu_marks_only_the_current_entry_active(agent_mexico):
    menu = navigation.menu_for(agent_mexico, "/soon/requests/", soon_key="requests")

    active = [e["key"] for section in menu for e in section["entries"] if e["is_active"]]
    assert active == ["requests"]


def test_agent_does_not_see_governance_or_admin(agent_mexico):
    menu = navigation.menu_for(agent_mexico, "/")

    keys = {e["key"] for section in menu for e in section["entries"]}
    assert "incidents" in keys
    assert not keys & {"assessments", "audits", "django-admin"}
