"""Fixtures for problem management: services, CIs, incidents to link, problems, changes."""

from __future__ import annotations

import datetime as dt

import pytest

from itsmo.accounts.models import Role
from itsmo.catalog.models import Criticality, Service
from itsmo.changes.models import Change
from itsmo.cmdb import services as cmdb
from itsmo.core import numbering
from itsmo.incidents import services as incidents
from itsmo.incidents.models import Channel
from itsmo.problems import services
from tests.api.conftest import api_as  # noqa: F401  (the API client fixture)
from tests.conftest import make_user


@pytest.fixture(autouse=True)
def mail_and_tasks(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def problem_manager_mexico(mexico):
    return make_user("pm.mexico", [Role.GROUP_MANAGER], mexico, language="en")


@pytest.fixture
def erp(desk_mexico):
    return Service.objects.create(
        code="erp", name="ERP", criticality=Criticality.HIGH, support_group=desk_mexico
    )


@pytest.fixture
def server_mexico(classes, mexico):
    return cmdb.create_ci(
        actor=None, name="srv-erp-mx-01", ci_class=classes["server"], country=mexico
    )


@pytest.fixture
def open_incident(end_user_mexico, agent_mexico, desk_mexico):
    def make(**values):
        values.setdefault("short_description", "ERP posting fails")
        values.setdefault("channel", Channel.PHONE)
        values.setdefault("caller", end_user_mexico)
        values.setdefault("actor", agent_mexico)
        values.setdefault("assignment_group", desk_mexico)
        return incidents.open_incident(**values)

    return make


@pytest.fixture
def incident_mexico(open_incident, erp, server_mexico):
    return open_incident(service=erp, ci=server_mexico)


@pytest.fixture
def problem_mexico(agent_mexico, erp, mexico, problem_manager_mexico, server_mexico):
    return services.open_problem(
        title="ERP posting fails every month-end",
        description="Postings time out when the batch runs.",
        actor=agent_mexico,
        impact=2,
        urgency=1,
        service=erp,
        cis=[server_mexico],
        country=mexico,
        problem_manager=problem_manager_mexico,
    )


@pytest.fixture
def change(db):
    return Change.objects.create(number=numbering.next_reference("CHG"), title="Patch the ERP")


@pytest.fixture
def recurring(open_incident, erp, server_mexico):
    """Five incidents on the same CI and service within two weeks, the same symptom."""
    start = dt.datetime(2026, 9, 1, 14, 0, tzinfo=dt.UTC)
    return [
        open_incident(
            short_description="ERP posting times out",
            description="Posting invoices times out at month end batch",
            service=erp,
            ci=server_mexico,
            opened_at=start + dt.timedelta(days=3 * n),
        )
        for n in range(5)
    ]
