"""The demo organisation: deterministic, complete at every scale, safe to run again."""

from __future__ import annotations

from datetime import time

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import override_settings

from itsmo.accounts.models import Role, SupportGroup, Tier, User
from itsmo.core import demo
from itsmo.organization.models import BusinessCalendar, BusinessUnit, Country, Region, Site

PASSWORD = "demo-password-for-tests"


FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture(autouse=True)
def demo_password(monkeypatch):
    monkeypatch.setenv("ITSMO_DEMO_PASSWORD", PASSWORD)


class Rollback(Exception):
    pass


def snapshot() -> dict:
    return {
        "users": list(
            User.objects.order_by("username").values_list(
                "username", "first_name", "last_name", "country__code", "job_title"
            )
        ),
        "sites": list(Site.objects.order_by("code").values_list("code", "name", "city")),
        "groups": list(
            SupportGroup.objects.order_by("code").values_list("code", "manager__username")
        ),
    }


def load_and_forget(seed: int, only=None) -> dict:
    """Load the demo into the empty database, take a snapshot, and roll it all back."""
    taken = {}
    try:
        with transaction.atomic():
            demo.run(seed=seed, scale="small", password=PASSWORD, only=only)
            taken.update(snapshot())
            raise Rollback
    except Rollback:
        pass
    assert not User.objects.exists()
    return taken


@pytest.fixture(scope="class")
def small_demo(django_db_setup, django_db_blocker):
    """The small demo, loaded once for a test class and rolled back after it."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_HASHERS),
        transaction.atomic(),
    ):
        yield demo.run(seed=demo.DEFAULT_SEED, scale="small", password=PASSWORD)
        transaction.set_rollback(True)


def test_the_same_seed_gives_the_same_organisation(db):
    first = load_and_forget(seed=7)
    second = load_and_forget(seed=7)
    other = load_and_forget(seed=8, only=["accounts"])

    assert first == second
    assert first["users"] != other["users"]
    assert first["sites"] == other["sites"]  # reference data does not depend on the seed


@pytest.mark.usefixtures("small_demo")
class TestSmallScale:
    def test_small_scale_has_every_region_country_and_calendar(self, small_demo, db):
        assert Region.objects.count() == 5
        assert set(Country.objects.values_list("code", flat=True)) == {
            "MX",
            "GT",
            "DO",
            "PR",
            "PA",
            "CR",
            "HN",
            "SV",
            "CO",
            "EC",
            "PE",
            "VE",
            "BR",
            "AR",
            "UY",
            "CL",
        }
        assert set(BusinessUnit.objects.values_list("name", flat=True)) == {
            "Snacks",
            "Beverages",
            "Foods",
        }
        assert BusinessCalendar.objects.count() == 16
        for country in Country.objects.select_related("calendar"):
            calendar = country.calendar
            assert calendar is not None, country
            assert calendar.holiday_country == country.code
            assert calendar.time_zone == country.time_zone
            periods = list(calendar.working_periods.values_list("weekday", "start", "end"))
            assert periods == [(day, time(8), time(18)) for day in range(5)]
            assert country.sites.exists(), country

    def test_data_centres_are_in_mexico_and_brazil(self, small_demo, db):
        data_centres = Site.objects.filter(kind="data_centre")
        assert set(data_centres.values_list("country__code", flat=True)) == {"MX", "BR"}
        assert Site.objects.filter(name="Planta Monterrey", city="Monterrey").exists()
        assert Site.objects.filter(name="Fábrica Jundiaí").exists()

    def test_small_scale_groups(self, small_demo, db):
        assert SupportGroup.objects.filter(tier=Tier.L1).count() == 5
        assert set(
            SupportGroup.objects.filter(tier=Tier.L1).values_list("region__code", flat=True)
        ) == set(Region.objects.values_list("code", flat=True))
        field = SupportGroup.objects.filter(tier=Tier.FIELD)
        assert sorted(field.values_list("country__code", flat=True)) == sorted(
            Country.objects.values_list("code", flat=True)
        )
        towers = set(SupportGroup.objects.filter(tier=Tier.L2).values_list("name", flat=True))
        for tower in (
            "SAP Competence Centre",
            "Database Administration",
            "Information Security",
            "Messaging & Collaboration",
            "Infrastructure & Data Centre",
            "Handhelds & Mobility",
            "Network Brazil",
            "End-User Computing CARICAM",
        ):
            assert tower in towers
        for group in SupportGroup.objects.select_related("manager"):
            assert group.manager is not None, group
            assert group.manager.has_role(Role.GROUP_MANAGER), group
            members = set(group.members.all())
            assert group.manager in members
            assert members - {group.manager}, f"{group} has no members besides its manager"
            assert all(member.has_role(Role.AGENT) for member in members), group

    def test_small_scale_people(self, small_demo, db):
        users = User.objects.select_related("country")
        assert 55 <= users.count() <= 75
        for role in Role.values:
            assert users.filter(role_grants__role=role).exists(), role
        for user in users:
            assert user.country is not None
            assert user.language == user.country.language
            assert user.time_zone == user.country.time_zone
            assert user.email.endswith("@" + demo.DEMO_DOMAIN)
        assert set(users.filter(country__code="BR").values_list("language", flat=True)) == {"pt"}
        assert set(users.values_list("country__code", flat=True)) == set(
            Country.objects.values_list("code", flat=True)
        )

    def test_role_accounts_use_the_demo_password(self, small_demo, db):
        admin = User.objects.get(username="admin")
        assert admin.is_superuser and admin.check_password(PASSWORD)
        for username, _purpose in demo.logins():
            user = User.objects.get(username=username)
            assert user.check_password(PASSWORD), username
        assert (
            User.objects.get(username="agent.br").support_groups.filter(code="sd-brazil").exists()
        )
        assert User.objects.get(username="smo").has_role(Role.SMO_ANALYST)
        generated = User.objects.exclude(username__in=[name for name, _ in demo.logins()])
        assert not any(user.has_usable_password() for user in generated)


@pytest.mark.parametrize(("scale", "low", "high"), [("medium", 180, 230)])
def test_medium_scale_has_about_200_people_and_a_manager_per_group(db, scale, low, high):
    ctx = demo.run(seed=1, scale=scale, password=PASSWORD, only=["accounts"])
    assert [name for name, _seconds in ctx.timings] == ["organization", "accounts"]
    assert low <= User.objects.count() <= high
    managers = SupportGroup.objects.values_list("manager", flat=True)
    assert len(set(managers)) == SupportGroup.objects.count()


def test_steps_run_after_their_dependencies():
    noop = lambda ctx: None  # noqa: E731
    steps = {
        "organization": demo.Step("organization", noop),
        "accounts": demo.Step("accounts", noop, after=("organization",)),
        "incidents": demo.Step("incidents", noop, after=("accounts", "catalog")),
        "catalog": demo.Step("catalog", noop, after=("organization",)),
    }
    order = [item.name for item in demo.ordered_steps(steps)]
    assert order == ["organization", "accounts", "catalog", "incidents"]


def test_step_cycles_and_unknown_dependencies_are_refused():
    noop = lambda ctx: None  # noqa: E731
    with pytest.raises(ValueError, match="cycle"):
        demo.ordered_steps({"a": demo.Step("a", noop, ("b",)), "b": demo.Step("b", noop, ("a",))})
    with pytest.raises(ValueError, match="unknown"):
        demo.ordered_steps({"a": demo.Step("a", noop, ("missing",))})


def test_every_app_demo_module_is_discovered():
    demo.discover()
    names = {item.name for item in demo.ordered_steps()}
    assert {"organization", "accounts"} <= names


def test_loaddemo_prints_a_summary_and_refuses_a_loaded_database_unless_reset(
    transactional_db, capsys
):
    call_command("loaddemo", seed=3, scale="small", only=["accounts"])
    out = capsys.readouterr().out
    assert "countries         16" in out
    assert "regions           5" in out
    for username in ("admin", "agent.mx", "agent.br", "smo", "enduser.co"):
        assert username in out
    assert PASSWORD in out
    before = snapshot()

    with pytest.raises(CommandError, match="--reset"):
        call_command("loaddemo", seed=3, scale="small", only=["accounts"])
    assert snapshot() == before

    call_command("loaddemo", seed=3, scale="small", reset=True, only=["accounts"])
    assert snapshot() == before
    assert User.objects.filter(username="admin").count() == 1


def test_generated_password_is_saved_and_reused(db, settings, tmp_path, monkeypatch):
    monkeypatch.delenv("ITSMO_DEMO_PASSWORD")
    settings.VAR_DIR = tmp_path

    password = demo.choose_password()

    assert (tmp_path / "demo-password").read_text().strip() == password
    assert len(password) >= 12
    assert demo.choose_password() == password
