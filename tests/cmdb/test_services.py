"""The CMDB write path: validation changes nothing, every change is journaled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from itsmo.cmdb import health, services as cmdb
from itsmo.cmdb.models import CI, CIStatus, Relationship, ServiceCI
from itsmo.core.errors import (
    NotFound,
    PermissionDenied,
    StaleVersion,
    TransitionNotAllowed,
    ValidationFailed,
)
from itsmo.core.models import JournalEntry


@pytest.fixture
def server(classes, mexico):
    return cmdb.create_ci(
        actor=None,
        name="srv-01",
        ci_class=classes["server"],
        country=mexico,
        serial="SN1",
        attributes={"cpu_count": "4", "memory_gb": "15.5"},
    )


def _journal(record):
    return list(JournalEntry.objects.for_record(record).values_list("kind", "field"))


def test_create_numbers_coerces_and_journals(server):
    assert server.number == "CI0001001"
    assert server.attributes == {"cpu_count": 4, "memory_gb": 15.5}
    assert _journal(server) == [("created", "")]


def test_site_gives_the_country(classes, dc_bogota, colombia):
    ci = cmdb.create_ci(
        actor=None,
        name="ap-01",
        ci_class=classes["network_device"],
        site=dc_bogota,
        attributes={"device_type": "access_point"},
    )
    assert ci.country == colombia


def test_site_in_another_country_is_refused(classes, dc_bogota, mexico):
    with pytest.raises(ValidationFailed) as error:
        cmdb.create_ci(
            actor=None, name="x", ci_class=classes["server"], site=dc_bogota, country=mexico
        )
    assert error.value.field == "site"
    assert not CI.objects.exists()


@pytest.mark.parametrize(
    ("class_code", "attributes", "field"),
    [
        ("server", {"cpu_count": True}, "attributes.cpu_count"),
        ("server", {"memory_gb": "lots"}, "attributes.memory_gb"),
        ("server", {"warranty_end": "31/12/2027"}, "attributes.warranty_end"),
        ("server", {"nickname": "bob"}, "attributes.nickname"),
        ("network_device", {}, "attributes.device_type"),  # required
        ("network_device", {"device_type": "toaster"}, "attributes.device_type"),
        ("business_application", {"is_custom": "perhaps"}, "attributes.is_custom"),
    ],
)
def test_bad_attributes_are_refused_and_nothing_is_written(
    classes, mexico, class_code, attributes, field
):
    with pytest.raises(ValidationFailed) as error:
        cmdb.create_ci(
            actor=None,
            name="x",
            ci_class=classes[class_code],
            country=mexico,
            attributes=attributes,
        )
    assert error.value.field == field
    assert not CI.objects.exists()
    assert not JournalEntry.objects.exists()


def test_inherited_attributes_are_accepted(classes, mexico):
    vm = cmdb.create_ci(
        actor=None,
        name="vm",
        ci_class=classes["virtual_machine"],
        country=mexico,
        attributes={"cpu_count": 2, "hypervisor": "kvm"},
    )
    assert vm.attributes == {"cpu_count": 2, "hypervisor": "kvm"}


def test_update_journals_each_change(server):
    cmdb.update_ci(
        server,
        actor=None,
        version=1,
        name="srv-01b",
        attributes={"cpu_count": 8, "memory_gb": "15.5"},
    )
    server.refresh_from_db()
    assert (server.name, server.version, server.attributes["cpu_count"]) == ("srv-01b", 2, 8)
    assert set(_journal(server)) == {
        ("created", ""),
        ("field_change", "name"),
        ("field_change", "attributes.cpu_count"),
    }


def test_failed_update_changes_nothing(server):
    with pytest.raises(ValidationFailed):
        cmdb.update_ci(server, actor=None, version=1, name="new", attributes={"cpu_count": "x"})
    server.refresh_from_db()
    assert server.name == "srv-01" and server.version == 1
    assert _journal(server) == [("created", "")]


def test_stale_version(server):
    cmdb.update_ci(server, actor=None, version=1, name="a")
    stale = CI.objects.get(pk=server.pk)
    stale.version = 1
    with pytest.raises(StaleVersion) as error:
        cmdb.update_ci(stale, actor=None, version=1, name="b")
    assert error.value.current_version == 2
    assert CI.objects.get(pk=server.pk).name == "a"


def test_status_follows_the_table(server):
    cmdb.retire_ci(server, actor=None)
    server.refresh_from_db()
    assert server.status == CIStatus.RETIRED
    with pytest.raises(TransitionNotAllowed):
        cmdb.transition_ci(server, CIStatus.UNDER_MAINTENANCE, actor=None)
    assert ("state_change", "status") in _journal(server)


def test_identity_rule(server, classes, mexico, dc_bogota):
    assert cmdb.find_by_identity(classes["server"], serial="SN1") == server
    assert cmdb.find_by_identity(classes["virtual_machine"], serial="SN1") is None
    with pytest.raises(ValidationFailed) as error:
        cmdb.create_ci(
            actor=None, name="other", ci_class=classes["server"], country=mexico, serial="SN1"
        )
    assert error.value.field == "serial"
    handheld = cmdb.create_ci(actor=None, name="HH-1", ci_class=classes["handheld"], site=dc_bogota)
    assert cmdb.find_by_identity(classes["handheld"], name="HH-1", site=dc_bogota) == handheld
    assert cmdb.find_by_identity(classes["handheld"], name="HH-1", site=None) is None
    with pytest.raises(ValidationFailed) as error:
        cmdb.create_ci(actor=None, name="HH-1", ci_class=classes["handheld"], site=dc_bogota)
    assert error.value.field == "name"


def test_database_refuses_a_duplicate_serial_in_a_class(server, classes):
    with pytest.raises(IntegrityError), transaction.atomic():
        CI.objects.create(number="CIX", name="dup", ci_class=classes["server"], serial="SN1")


def test_permissions_and_scope(server, agent_brazil, end_user_mexico, classes, brazil):
    with pytest.raises(PermissionDenied):
        cmdb.create_ci(actor=end_user_mexico, name="x", ci_class=classes["server"])
    with pytest.raises(NotFound):
        cmdb.update_ci(server, actor=agent_brazil, version=1, name="mine")
    own = cmdb.create_ci(actor=agent_brazil, name="br", ci_class=classes["server"], country=brazil)
    with pytest.raises(NotFound):
        cmdb.add_relationship(actor=agent_brazil, source=own, target=server, type="depends_on")
    with pytest.raises(PermissionDenied):
        cmdb.create_ci(
            actor=agent_brazil,
            name="global",
            ci_class=classes["cloud_service"],
            attributes={"provider": "aws"},
        )
    server.refresh_from_db()
    assert server.name == "srv-01" and not Relationship.objects.exists()


def test_relationship_rules(classes, mexico):
    def ci(name):
        return cmdb.create_ci(actor=None, name=name, ci_class=classes["rack"], country=mexico)

    a, b, c = ci("a"), ci("b"), ci("c")
    cmdb.add_relationship(actor=None, source=a, target=b, type="contains")
    cmdb.add_relationship(actor=None, source=b, target=c, type="contains")
    for source, target, kind, field in [
        (a, a, "depends_on", "target"),
        (a, b, "contains", "target"),
        (c, a, "contains", "target"),  # a cycle in containment
        (a, b, "owns", "type"),
    ]:
        with pytest.raises(ValidationFailed) as error:
            cmdb.add_relationship(actor=None, source=source, target=target, type=kind)
        assert error.value.field == field
    # a dependency cycle is allowed (impact analysis is cycle-safe)
    cmdb.add_relationship(actor=None, source=c, target=a, type="depends_on")
    assert Relationship.objects.count() == 3
    assert ("field_change", "relationships") in _journal(a)
    relationship = Relationship.objects.get(source=c, target=a)
    cmdb.remove_relationship(relationship, actor=None)
    assert Relationship.objects.count() == 2


def test_database_refuses_self_links(server):
    with pytest.raises(IntegrityError), transaction.atomic():
        Relationship.objects.create(source=server, target=server, type="depends_on")


def test_service_links(server, route_sales):
    cmdb.link_service(route_sales, server, actor=None)
    with pytest.raises(ValidationFailed):
        cmdb.link_service(route_sales, server, actor=None)
    assert ("field_change", "services") in _journal(server)
    assert ("field_change", "cis") in _journal(route_sales)
    cmdb.unlink_service(route_sales, server, actor=None)
    assert not ServiceCI.objects.exists()
    with pytest.raises(NotFound):
        cmdb.unlink_service(route_sales, server, actor=None)


def test_health(classes, mexico, story, agent_brazil):
    now = timezone.now()
    old = cmdb.create_ci(
        actor=None,
        name="old",
        ci_class=classes["server"],
        country=mexico,
        discovery_source="sccm",
        last_seen_at=now - timedelta(days=40),
    )
    never = cmdb.create_ci(
        actor=None,
        name="never",
        ci_class=classes["server"],
        country=mexico,
        discovery_source="sccm",
    )
    cmdb.create_ci(
        actor=None,
        name="fresh",
        ci_class=classes["server"],
        country=mexico,
        discovery_source="sccm",
        last_seen_at=now,
    )
    assert set(health.stale_cis(30)) == {old, never}
    assert list(health.stale_cis(30, user=agent_brazil)) == []

    orphans = set(health.orphan_cis())
    assert old in orphans and story["wan"] not in orphans and story["handhelds"] not in orphans

    twin = cmdb.create_ci(actor=None, name=" OLD ", ci_class=classes["server"], country=mexico)
    vm = cmdb.create_ci(
        actor=None,
        name="vm",
        ci_class=classes["virtual_machine"],
        country=mexico,
        serial="SN-RS-01",
    )
    groups = {(g.reason, g.key): g.ci_ids for g in health.duplicate_candidates()}
    assert groups[("same_class_and_name", "old")] == [old.pk, twin.pk]
    assert groups[("same_serial", "SN-RS-01")] == [story["server"].pk, vm.pk]
