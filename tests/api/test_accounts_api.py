"""Users (staff roles), support groups (region-scoped) and the signed-in user."""

import pytest

from itsmo.accounts.models import Role, SupportGroup
from itsmo.core.models import JournalEntry

from .conftest import assert_problem

# /me


def test_me_anonymous_is_refused(api_as):
    assert_problem(api_as(None).get("/me"), 401)


def test_me_describes_the_signed_in_user(api_as, agent_brazil):
    body = api_as(agent_brazil).get("/me").json()

    assert body["username"] == "agent.brazil"
    assert body["roles"] == ["agent"]
    assert body["country"] == "BR"
    assert body["sees_all_regions"] is False


# /users


@pytest.mark.parametrize("path", ["/users", "/users/1"])
def test_users_anonymous_is_refused(api_as, path):
    assert_problem(api_as(None).get(path), 401)


def test_end_user_may_not_browse_users(api_as, end_user_mexico, agent_mexico):
    assert_problem(api_as(end_user_mexico).get("/users"), 403)
    assert_problem(api_as(end_user_mexico).get(f"/users/{agent_mexico.pk}"), 403)


def test_staff_lists_users_of_every_region(api_as, agent_brazil, agent_mexico, end_user_mexico):
    response = api_as(agent_brazil).get("/users")

    assert response.status_code == 200
    usernames = [u["username"] for u in response.json()["items"]]
    assert usernames == ["agent.brazil", "agent.mexico", "user.mexico"]
    first = response.json()["items"][0]
    assert first["roles"] == ["agent"]
    assert first["country"]["code"] == "BR"
    assert "password" not in first


@pytest.mark.parametrize(
    ("params", "usernames"),
    [
        ({"role": "agent"}, ["agent.brazil", "agent.mexico"]),
        ({"role": "end_user"}, ["user.mexico"]),
        ({"country": "mx"}, ["agent.mexico", "user.mexico"]),
        ({"q": "BRAZIL"}, ["agent.brazil"]),
        ({"q": "example.com", "country": "BR"}, ["agent.brazil"]),
    ],
)
def test_users_filters(api_as, agent_brazil, agent_mexico, end_user_mexico, params, usernames):
    response = api_as(agent_brazil).get("/users", params)

    assert [u["username"] for u in response.json()["items"]] == usernames


def test_users_unknown_role_is_422(api_as, agent_brazil):
    assert_problem(api_as(agent_brazil).get("/users", {"role": "wizard"}), 422, field="role")


def test_user_detail_lists_only_groups_the_viewer_may_see(
    api_as, agent_brazil, agent_mexico, smo_analyst, desk_mexico
):
    as_brazil = api_as(agent_brazil).get(f"/users/{agent_mexico.pk}")
    as_smo = api_as(smo_analyst).get(f"/users/{agent_mexico.pk}")

    assert as_brazil.status_code == 200
    assert as_brazil.json()["support_groups"] == []
    assert as_smo.json()["support_groups"] == ["sd-mexico"]


def test_unknown_user_is_404(api_as, agent_brazil):
    assert_problem(api_as(agent_brazil).get("/users/999999"), 404)


# /support-groups


@pytest.mark.parametrize("path", ["/support-groups", "/support-groups/1"])
def test_support_groups_anonymous_is_refused(api_as, path, desk_mexico):
    assert_problem(api_as(None).get(path), 401)


def test_support_groups_list_is_region_scoped(
    api_as, agent_brazil, agent_mexico, smo_analyst, desk_mexico, field_brazil
):
    def codes(user):
        return [g["code"] for g in api_as(user).get("/support-groups").json()["items"]]

    assert codes(agent_brazil) == ["field-br"]
    assert codes(agent_mexico) == ["sd-mexico"]
    assert codes(smo_analyst) == ["field-br", "sd-mexico"]


@pytest.mark.parametrize(
    ("params", "codes"),
    [
        ({"tier": "l1"}, ["sd-mexico"]),
        ({"tier": "field"}, ["field-br"]),
        ({"region": "brazil"}, ["field-br"]),
        ({"country": "br"}, ["field-br"]),
        ({"country": "MX"}, []),
    ],
)
def test_support_groups_filters(api_as, smo_analyst, desk_mexico, field_brazil, params, codes):
    response = api_as(smo_analyst).get("/support-groups", params)

    assert [g["code"] for g in response.json()["items"]] == codes


def test_support_group_detail_has_members(api_as, agent_mexico, desk_mexico):
    response = api_as(agent_mexico).get(f"/support-groups/{desk_mexico.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["tier"] == "l1"
    assert body["region"]["code"] == "mexico"
    assert body["country"] is None
    assert body["members"] == [
        {"id": agent_mexico.pk, "username": "agent.mexico", "display_name": "agent.mexico"}
    ]


def test_support_group_of_another_region_is_404_without_data(api_as, agent_brazil, desk_mexico):
    response = api_as(agent_brazil).get(f"/support-groups/{desk_mexico.pk}")

    body = assert_problem(response, 404)
    assert "Service Desk Mexico" not in response.content.decode()
    assert "sd-mexico" not in body["detail"]


def _group_body(**overrides):
    body = {
        "code": "l2-network-br",
        "name": "Network Brazil",
        "tier": "l2",
        "region": "brazil",
        "country": "BR",
        "members": ["agent.brazil"],
        "manager": "agent.brazil",
        "email": "network.br@example.com",
    }
    body.update(overrides)
    return body


def test_create_support_group_anonymous_is_refused(api_as, region_brazil, brazil):
    assert_problem(api_as(None).post("/support-groups", _group_body()), 401)
    assert not SupportGroup.objects.exists()


@pytest.mark.parametrize("user", ["agent_brazil", "smo_analyst", "end_user_mexico"])
def test_create_support_group_needs_an_administrator(api_as, request, user, agent_brazil):
    response = api_as(request.getfixturevalue(user)).post("/support-groups", _group_body())

    assert_problem(response, 403)
    assert not SupportGroup.objects.exists()


def test_administrator_creates_a_support_group(api_as, admin_user, agent_brazil):
    response = api_as(admin_user).post("/support-groups", _group_body())

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["code"] == "l2-network-br"
    assert body["country"]["code"] == "BR"
    assert body["manager"]["username"] == "agent.brazil"
    assert [m["username"] for m in body["members"]] == ["agent.brazil"]
    group = SupportGroup.objects.get(code="l2-network-br")
    assert JournalEntry.objects.for_record(group).filter(actor=admin_user).exists()
    # and the Brazil agent now sees it
    assert api_as(agent_brazil).get(f"/support-groups/{group.pk}").status_code == 200


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"tier": "l9"}, "tier"),
        ({"name": ""}, "name"),
        ({"code": "has spaces"}, "code"),
        ({"region": "atlantis"}, "region"),
        ({"country": "ZZ"}, "country"),
        ({"country": "MX"}, "country"),  # not in the Brazil region
        ({"manager": "nobody"}, "manager"),
        ({"members": ["agent.brazil", "nobody"]}, "members"),
        ({"code": "field-br"}, "code"),  # taken
    ],
)
def test_create_support_group_invalid_input_names_the_field(
    api_as, admin_user, agent_brazil, mexico, field_brazil, overrides, field
):
    before = SupportGroup.objects.count()

    response = api_as(admin_user).post("/support-groups", _group_body(**overrides))

    assert_problem(response, 422, field=field)
    assert SupportGroup.objects.count() == before


def test_create_support_group_missing_field_is_422(api_as, admin_user, region_brazil):
    body = _group_body()
    del body["tier"]

    assert_problem(api_as(admin_user).post("/support-groups", body), 422, field="tier")


def test_session_write_needs_the_csrf_token(api_as, admin_user, region_brazil, brazil):
    client = api_as(admin_user, session=True, enforce_csrf=True)

    response = client.post("/support-groups", _group_body(members=[], manager=None))

    assert_problem(response, 403)
    assert not SupportGroup.objects.exists()


def test_administrator_role_without_superuser_may_create(api_as, region_brazil, brazil):
    from tests.conftest import make_user

    admin = make_user("plain.admin", [Role.ADMINISTRATOR], brazil)
    body = _group_body(members=[], manager=None)

    assert api_as(admin).post("/support-groups", body).status_code == 201
