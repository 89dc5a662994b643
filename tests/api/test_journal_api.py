"""A record's timeline: scoped like the record, work notes for staff roles only."""

import pytest

from itsmo.accounts import services as accounts
from itsmo.core import journal, registry
from itsmo.core.errors import NotFound

from .conftest import assert_problem


@pytest.fixture
def desk_mexico_history(desk_mexico, admin_user, end_user_mexico):
    accounts.add_members(desk_mexico, [end_user_mexico], actor=admin_user)  # a work note
    journal.add_comment(desk_mexico, admin_user, "Opening hours are now 8-20")
    journal.record_changes(desk_mexico, admin_user, {"email": ("", "sd.mx@example.com")})
    return desk_mexico


def kinds(response):
    return [entry["kind"] for entry in response.json()["items"]]


def test_anonymous_is_refused(api_as, desk_mexico_history):
    response = api_as(None).get(f"/journal/support-group/{desk_mexico_history.pk}")

    assert_problem(response, 401)


def test_staff_see_the_whole_timeline_oldest_first(
    api_as, agent_mexico, admin_user, desk_mexico_history
):
    response = api_as(agent_mexico).get(f"/journal/support-group/{desk_mexico_history.pk}")

    assert response.status_code == 200
    assert kinds(response) == ["created", "work_note", "comment", "field_change"]
    note = response.json()["items"][1]
    assert note["is_public"] is False
    assert note["actor"] == {"id": admin_user.pk, "username": "admin", "display_name": "admin"}
    change = response.json()["items"][3]
    assert (change["field"], change["old_value"], change["new_value"]) == (
        "email",
        "",
        "sd.mx@example.com",
    )


def test_end_users_see_public_entries_only(api_as, end_user_mexico, desk_mexico_history):
    response = api_as(end_user_mexico).get(f"/journal/support-group/{desk_mexico_history.pk}")

    assert response.status_code == 200
    assert kinds(response) == ["created", "comment", "field_change"]
    assert "Added" not in response.content.decode()
    assert response.json()["count"] == 3


def test_record_of_another_region_is_404(api_as, agent_brazil, desk_mexico_history):
    response = api_as(agent_brazil).get(f"/journal/support-group/{desk_mexico_history.pk}")

    body = assert_problem(response, 404)
    assert "Opening hours" not in response.content.decode()
    assert body["status"] == 404


def test_unknown_record_is_404(api_as, agent_mexico, db):
    assert_problem(api_as(agent_mexico).get("/journal/support-group/999999"), 404)


def test_unknown_record_type_is_404_naming_it(api_as, agent_mexico):
    response = api_as(agent_mexico).get(f"/journal/spaceship/{agent_mexico.pk}")

    assert_problem(response, 404, field="record_type")


def test_user_timeline_for_staff_and_for_oneself(
    api_as, agent_brazil, end_user_mexico, agent_mexico
):
    accounts.set_roles(end_user_mexico, ["end_user", "agent"], actor=agent_mexico)

    as_staff = api_as(agent_brazil).get(f"/journal/user/{end_user_mexico.pk}")
    accounts.set_roles(end_user_mexico, ["end_user"])
    end_user_mexico.refresh_from_db()
    as_self = api_as(end_user_mexico).get(f"/journal/user/{end_user_mexico.pk}")
    about_someone_else = api_as(end_user_mexico).get(f"/journal/user/{agent_brazil.pk}")

    assert kinds(as_staff) == ["created", "field_change"]
    assert as_self.status_code == 200
    assert_problem(about_someone_else, 404)


def test_timeline_is_paginated(api_as, agent_mexico, desk_mexico):
    for number in range(5):
        journal.add_comment(desk_mexico, agent_mexico, f"comment {number}")

    response = api_as(agent_mexico).get(
        f"/journal/support-group/{desk_mexico.pk}", {"page": 2, "page_size": 4}
    )

    assert response.json()["count"] == 6
    assert [e["body"] for e in response.json()["items"]] == ["comment 3", "comment 4"]


def test_registry_uses_the_visible_queryset(desk_mexico, agent_brazil, agent_mexico):
    assert registry.get_visible("support-group", desk_mexico.pk, agent_mexico) == desk_mexico
    with pytest.raises(NotFound):
        registry.get_visible("support-group", desk_mexico.pk, agent_brazil)


def test_registry_refuses_a_model_without_visible_to():
    from itsmo.organization.models import Region

    with pytest.raises(TypeError):
        registry.register("region-test", Region)


def test_registry_refuses_a_name_taken_by_another_model():
    from itsmo.accounts.models import SupportGroup, User

    with pytest.raises(ValueError):
        registry.register("user", SupportGroup)
    assert registry.get("user").model is User
    assert {"support-group", "user"} <= set(registry.names())
