"""Fixtures for incidents and SLA tests: services, groups, SLA definitions, incidents."""

from __future__ import annotations

import pytest

from itsmo.accounts import services as accounts
from itsmo.accounts.models import Role, Tier
from itsmo.catalog.models import Criticality, Lifecycle, Service
from itsmo.incidents import services
from itsmo.incidents.models import Channel
from itsmo.slm import services as slm
from tests.api.conftest import api_as  # noqa: F401  (the API client fixture)
from tests.conftest import make_user


@pytest.fixture(autouse=True)
def mail_and_tasks(settings, tmp_path):
    """Django's own test mail backend, tasks run at once, attachments in a temporary dir."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def manager_mexico(mexico):
    return make_user("manager.mexico", [Role.GROUP_MANAGER], mexico, language="en")


@pytest.fixture
def l2_mexico(region_mexico, mexico, agent_mexico, manager_mexico):
    return accounts.create_support_group(
        code="l2-erp-mx",
        name="ERP Specialists Mexico",
        tier=Tier.L2,
        region=region_mexico,
        country=mexico,
        manager=manager_mexico,
        members=[agent_mexico],
    )


@pytest.fixture
def desk_mexico_managed(desk_mexico, manager_mexico):
    desk_mexico.manager = manager_mexico
    desk_mexico.save(update_fields=["manager"])
    return desk_mexico


@pytest.fixture
def erp(desk_mexico):
    return Service.objects.create(
        code="erp",
        name="ERP",
        criticality=Criticality.CRITICAL,
        lifecycle=Lifecycle.CATALOGUE,
        support_group=desk_mexico,
    )


@pytest.fixture
def email_service(db):
    return Service.objects.create(
        code="email", name="Corporate e-mail", criticality=Criticality.MEDIUM
    )


@pytest.fixture
def p2_sla(db):
    """P2: respond in 1 business hour, resolve in 24 business hours (3 working days)."""
    return slm.create_definition(
        name="P2 standard",
        priority=2,
        response_target_minutes=60,
        resolution_target_minutes=24 * 60,
    )


@pytest.fixture
def any_sla(db):
    """Every incident: resolve in 5 business days."""
    return slm.create_definition(name="Any incident", resolution_target_minutes=5 * 10 * 60)


@pytest.fixture
def open_mexico_incident(end_user_mexico, agent_mexico, desk_mexico):
    def make(**values):
        values.setdefault("short_description", "Printer jams")
        values.setdefault("channel", Channel.PHONE)
        values.setdefault("caller", end_user_mexico)
        values.setdefault("actor", agent_mexico)
        return services.open_incident(**values)

    return make


@pytest.fixture
def incident_mexico(open_mexico_incident, desk_mexico):
    return open_mexico_incident(impact=2, urgency=2, assignment_group=desk_mexico)


class FrozenClock:
    """``timezone.now()`` returns ``self.now``; move it with ``advance``/``set``."""

    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now

    def set(self, now):
        self.now = now

    def advance(self, **delta):
        import datetime as dt

        self.now = self.now + dt.timedelta(**delta)
        return self.now


@pytest.fixture
def frozen(monkeypatch):
    """Freeze ``django.utils.timezone.now`` (default: Friday 11 September 2026 23:00 UTC)."""
    import datetime as dt

    from django.utils import timezone

    clock = FrozenClock(dt.datetime(2026, 9, 11, 23, 0, tzinfo=dt.UTC))
    monkeypatch.setattr(timezone, "now", clock)
    return clock
