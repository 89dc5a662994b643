"""Change fixtures: a small CMDB (application on a database server in Mexico, a Brazilian
server apart), a CAB and an ECAB with their approval rules, a standard template, and
change factories."""

from __future__ import annotations

import datetime as dt

import pytest

from itsmo.accounts import services as accounts
from itsmo.accounts.models import Role, Tier
from itsmo.catalog import services as catalog
from itsmo.changes import services
from itsmo.changes.models import ApproverSource, ChangeType, Policy, Risk
from itsmo.cmdb import services as cmdb
from itsmo.organization.models import Site, SiteKind
from tests.api.conftest import api_as  # noqa: F401  (the API client fixture)
from tests.conftest import make_user

LOW_ANSWERS = {
    "tested": "yes",
    "backout": "tested",
    "outage": "none",
    "experience": "often",
    "complexity": "one",
}
HIGH_ANSWERS = {
    "tested": "no",
    "backout": "no",
    "outage": "long",
    "experience": "never",
    "complexity": "many",
}
MONDAY = dt.datetime(2026, 10, 5, 22, 0, tzinfo=dt.UTC)


def window(hours_from=0, hours=2, start=MONDAY):
    begin = start + dt.timedelta(hours=hours_from)
    return begin, begin + dt.timedelta(hours=hours)


@pytest.fixture(autouse=True)
def fast_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def datacentre_mexico(mexico):
    return Site.objects.create(
        code="dc-mx", name="Querétaro data centre", kind=SiteKind.DATA_CENTRE, country=mexico
    )


@pytest.fixture
def office_brazil(brazil):
    return Site.objects.create(code="sp", name="São Paulo", kind=SiteKind.OFFICE, country=brazil)


@pytest.fixture
def manager_mexico(mexico):
    return make_user("manager.mexico", [Role.GROUP_MANAGER], mexico)


@pytest.fixture
def cab_members(mexico):
    return [make_user(f"cab.{n}", [Role.AGENT], mexico) for n in range(1, 4)]


@pytest.fixture
def cab(cab_members):
    return accounts.create_support_group(
        code="cab", name="Change Advisory Board", tier=Tier.L2, region=None, members=cab_members
    )


@pytest.fixture
def ecab(cab_members):
    return accounts.create_support_group(
        code="ecab", name="Emergency CAB", tier=Tier.L2, region=None, members=cab_members[:2]
    )


@pytest.fixture
def it_mexico(region_mexico, manager_mexico):
    """The regional IT managers of Mexico: the managers of its groups."""
    return accounts.create_support_group(
        code="it-mx", name="IT Mexico", tier=Tier.L2, region=region_mexico, manager=manager_mexico
    )


@pytest.fixture
def erp(db):
    return catalog.create_service(
        actor=None,
        code="erp",
        name="ERP",
        kind="business",
        lifecycle="catalogue",
        criticality=2,
    )


@pytest.fixture
def cmdb_mx(classes, datacentre_mexico, office_brazil, erp):
    """app runs on db-server; db-server connects to a switch; a Brazilian server apart."""

    def make(name, cls, site, **attributes):
        return cmdb.create_ci(
            actor=None, name=name, ci_class=classes[cls], site=site, attributes=attributes
        )

    cis = {
        "app": make("ERP application", "business_application", datacentre_mexico),
        "db": make("srv-mx-db-01", "server", datacentre_mexico),
        "switch": make("sw-mx-core-01", "network_device", datacentre_mexico, device_type="switch"),
        "far": make("far-away", "server", datacentre_mexico),
        "br": make("srv-br-01", "server", office_brazil),
    }
    cmdb.add_relationship(actor=None, source=cis["app"], target=cis["db"], type="runs_on")
    cmdb.add_relationship(actor=None, source=cis["db"], target=cis["switch"], type="connects_to")
    cmdb.link_service(erp, cis["app"], actor=None)
    return cis


@pytest.fixture
def rules(cab, ecab, it_mexico):
    return {
        "cab": services.create_approval_rule(
            actor=None,
            name="CAB",
            change_type=ChangeType.NORMAL,
            source=ApproverSource.GROUP,
            group=cab,
            is_cab=True,
            policy=Policy.MAJORITY,
            deadline_hours=72,
        ),
        "ecab": services.create_approval_rule(
            actor=None,
            name="ECAB",
            change_type=ChangeType.EMERGENCY,
            source=ApproverSource.GROUP,
            group=ecab,
            policy=Policy.ANY,
            deadline_hours=4,
        ),
        "high": services.create_approval_rule(
            actor=None,
            name="Regional IT managers (high risk)",
            change_type=ChangeType.NORMAL,
            source=ApproverSource.REGIONAL_MANAGERS,
            min_risk=Risk.HIGH,
            policy=Policy.ALL,
            deadline_hours=48,
        ),
    }


@pytest.fixture
def template(desk_mexico):
    return services.create_template(
        actor=None,
        code="patch-windows",
        name="Monthly Windows patching",
        implementation_plan="Apply the approved patches; reboot.",
        backout_plan="Uninstall the patches; reboot.",
        test_plan="Log in; check services started.",
        assignment_group=desk_mexico,
    )


@pytest.fixture
def new_change(agent_mexico, mexico, cmdb_mx):
    def make(type=ChangeType.NORMAL, cis=("db",), **values):
        values.setdefault("title", "Upgrade the database")
        values.setdefault("actor", agent_mexico)
        values.setdefault("country", mexico)
        if type != ChangeType.STANDARD:
            values.setdefault("implementation_plan", "Stop, upgrade, start.")
            values.setdefault("backout_plan", "Restore the snapshot.")
        return services.create_change(type=type, cis=[cmdb_mx[c] for c in cis], **values)

    return make


@pytest.fixture
def advance():
    """Move a change forward through the services (schedule, assess, authorise…)."""

    def run(change, actor, *states, start_end=None):
        from itsmo.changes.models import Status

        for state in states:
            if state == "schedule":
                begin, end = start_end or window()
                services.schedule_change(change, actor=actor, planned_start=begin, planned_end=end)
            elif state == "risk_low":
                services.assess_risk(change, actor=actor, answers=LOW_ANSWERS)
            elif state == "risk_high":
                services.assess_risk(change, actor=actor, answers=HIGH_ANSWERS)
            else:
                services.transition(change, Status(state), actor=actor)
        return change

    return run


def approve(change, members):
    """``members`` approve ``change`` (through the service); returns it refreshed."""
    for member in members:
        services.decide(change, actor=member, decision="approved", comment="Fine by me")
    change.refresh_from_db()
    return change


@pytest.fixture
def authorised(new_change, agent_mexico, rules, cab_members, advance):
    """A normal change the CAB approved for Monday 22:00-24:00: Scheduled."""
    change = new_change()
    advance(change, agent_mexico, "assess", "risk_low", "schedule", "authorise")
    approve(change, cab_members[:2])
    assert change.status == "scheduled"
    return change
