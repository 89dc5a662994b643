"""Shared fixtures: a two-region organisation and users in each role."""

from __future__ import annotations

import pytest
from django.db import connection

from itsmo.accounts import services as accounts
from itsmo.accounts.models import Role, Tier
from itsmo.cmdb.demo import ensure_standard_classes
from itsmo.cmdb.models import CIClass
from itsmo.organization.models import Country, Region
from tests import browser as browser_support


@pytest.fixture
def region_mexico(db):
    return Region.objects.create(code="mexico", name="Mexico")


@pytest.fixture
def region_brazil(db):
    return Region.objects.create(code="brazil", name="Brazil")


@pytest.fixture
def region_andean(db):
    return Region.objects.create(code="andean", name="Andean")


@pytest.fixture
def mexico(region_mexico):
    return Country.objects.create(
        code="MX",
        name="Mexico",
        region=region_mexico,
        time_zone="America/Mexico_City",
        language="es",
    )


@pytest.fixture
def brazil(region_brazil):
    return Country.objects.create(
        code="BR", name="Brazil", region=region_brazil, time_zone="America/Sao_Paulo", language="pt"
    )


@pytest.fixture
def colombia(region_andean):
    return Country.objects.create(
        code="CO", name="Colombia", region=region_andean, time_zone="America/Bogota", language="es"
    )


@pytest.fixture
def peru(region_andean):
    return Country.objects.create(
        code="PE", name="Peru", region=region_andean, time_zone="America/Lima", language="es"
    )


@pytest.fixture(autouse=True)
def _numbering_restarts_after_a_committing_test(request, django_db_blocker):
    """A test that commits (``transaction=True``, the live server) has its tables flushed
    afterwards, counters included on SQLite; on PostgreSQL drop the number sequences it left,
    so the next test numbers from the start on both databases."""
    yield
    marker = request.node.get_closest_marker("django_db")
    committed = {"transactional_db", "live_server"} & set(request.fixturenames) or (
        marker and (marker.kwargs.get("transaction") or marker.args[:1] == (True,))
    )
    if not committed or connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT sequencename FROM pg_sequences "
            "WHERE schemaname = current_schema() AND sequencename LIKE 'core\\_number\\_%%'"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP SEQUENCE "{name}"')


@pytest.fixture
def signed_in(client):
    """``signed_in(user)``: the test client, signed in as ``user``, reading English."""

    def sign_in(user):
        accounts.update_preferences(user, language="en")
        client.force_login(user)
        return client

    return sign_in


PASSWORD = "correct-horse-battery-staple"


def make_user(username, roles, country=None, **extra):
    return accounts.create_user(
        username=username,
        email=f"{username}@example.com",
        password=PASSWORD,
        roles=roles,
        country=country,
        **extra,
    )


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def agent_brazil(brazil):
    return make_user("agent.brazil", [Role.AGENT], brazil)


@pytest.fixture
def agent_mexico(mexico):
    return make_user("agent.mexico", [Role.AGENT], mexico)


@pytest.fixture
def end_user_mexico(mexico):
    return make_user("user.mexico", [Role.END_USER], mexico)


@pytest.fixture
def smo_analyst(mexico):
    return make_user("smo.analyst", [Role.SMO_ANALYST], mexico)


@pytest.fixture
def admin_user(mexico):
    return make_user("admin", [Role.ADMINISTRATOR], mexico, is_superuser=True)


@pytest.fixture
def desk_mexico(region_mexico, mexico, agent_mexico):
    return accounts.create_support_group(
        code="sd-mexico",
        name="Service Desk Mexico",
        tier=Tier.L1,
        region=region_mexico,
        members=[agent_mexico],
    )


@pytest.fixture
def field_brazil(region_brazil, brazil, agent_brazil):
    return accounts.create_support_group(
        code="field-br",
        name="Field Services Brazil",
        tier=Tier.FIELD,
        region=region_brazil,
        country=brazil,
        members=[agent_brazil],
    )


@pytest.fixture
def classes(db):
    """The standard CI classes by code (a transactional test elsewhere may have flushed the
    rows the migration seeded)."""
    ensure_standard_classes()
    return {c.code: c for c in CIClass.objects.all()}


# -- end-to-end browser tests (tests/browser.py) ----------------------------------------------


@pytest.fixture(autouse=True)
def _browser_tests_hash_passwords_cheaply(request):
    """Browser tests create users with a password and sign them in through the form;
    PBKDF2 would take most of their time."""
    if request.node.get_closest_marker("browser") is not None:
        settings = request.getfixturevalue("settings")
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def browser():
    """One headless Chromium for the test (skipped where Debian's Chromium is missing)."""
    if not browser_support.CHROMIUM.exists():
        pytest.skip(f"needs Debian's Chromium at {browser_support.CHROMIUM}")
    with browser_support.chromium() as launched:
        yield launched


@pytest.fixture
def sign_in(browser, live_server, password):
    """``sign_in(user)``: a page of its own browser context where ``user`` has signed in."""

    def open_page(user, **options):
        return browser_support.sign_in(browser, live_server, user, password, **options)

    return open_page
