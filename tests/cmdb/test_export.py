"""CMDB export: the import format, scoping, round trip, CLI and API."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from itsmo.cmdb import export, importer, services as cmdb
from itsmo.cmdb.models import CI, Relationship
from itsmo.core.models import JournalEntry

PROBLEM = "application/problem+json"


@pytest.fixture
def cmdb_data(classes, mexico, brazil, colombia, dc_bogota, datacentre_mexico, desk_mexico):
    host = cmdb.create_ci(
        actor=None,
        name='host, "primary"',
        ci_class=classes["server"],
        serial="SN-H1",
        site=datacentre_mexico,
        owner_group=desk_mexico,
        asset_tag="AT-1",
        description="first line\nsecond line, with a comma",
        discovery_source="sccm",
        last_seen_at=timezone.now().replace(microsecond=0),
        attributes={
            "cpu_count": 32,
            "memory_gb": 256.5,
            "ip_address": "10.1.1.1",
            "warranty_end": "2027-01-31",
        },
    )
    vm = cmdb.create_ci(
        actor=None,
        name="vm-ñandú-01",
        ci_class=classes["virtual_machine"],
        site=datacentre_mexico,
        status="planned",
        environment="test",
        attributes={"hypervisor": "vmware", "cpu_count": 4},
    )
    app = cmdb.create_ci(
        actor=None,
        name="Route Sales",
        ci_class=classes["business_application"],
        country=mexico,
        attributes={"is_custom": True},
    )
    router = cmdb.create_ci(
        actor=None,
        name="rt-bog-01",
        ci_class=classes["network_device"],
        site=dc_bogota,
        attributes={"device_type": "router"},
    )
    cmdb.create_ci(
        actor=None, name="br-laptop", ci_class=classes["end_user_device"], country=brazil
    )
    cmdb.add_relationship(actor=None, source=vm, target=host, type="runs_on")
    cmdb.add_relationship(actor=None, source=app, target=vm, type="runs_on")
    cmdb.add_relationship(actor=None, source=app, target=router, type="depends_on")
    return {"host": host, "vm": vm, "app": app, "router": router}


def exported(user=None, **filters) -> str:
    out = io.StringIO()
    export.export_cis(out, user, **filters)
    return out.getvalue()


def reimport(text: str, **options) -> importer.ImportReport:
    return importer.import_file(io.BytesIO(text.encode()), **options)


def snapshot() -> list:
    return list(
        CI.objects.order_by("number").values_list(
            "number",
            "name",
            "ci_class__code",
            "serial",
            "asset_tag",
            "status",
            "environment",
            "country__code",
            "site__code",
            "owner_group__code",
            "description",
            "discovery_source",
            "last_seen_at",
            "attributes",
            "version",
        )
    )


def test_export_has_the_import_columns_and_every_ci(cmdb_data):
    rows = list(csv.DictReader(io.StringIO(exported())))
    assert len(rows) == 5
    host = next(r for r in rows if r["serial"] == "SN-H1")
    assert host["class"] == "server" and host["site"] == "dc-mx-qro"
    assert host["country"] == "MX" and host["owner_group"] == "sd-mexico"
    assert host["attr.cpu_count"] == "32" and host["attr.memory_gb"] == "256.5"
    app = next(r for r in rows if r["name"] == "Route Sales")
    assert app["attr.is_custom"] == "true" and app["site"] == ""


def test_round_trip_changes_nothing_and_an_edit_updates_one_ci(cmdb_data):
    before = snapshot()
    journal = JournalEntry.objects.count()
    text = exported()
    report = reimport(text)
    assert report.errors == []
    assert (report.created, report.updated, report.unchanged) == (0, 0, 5)
    assert snapshot() == before and JournalEntry.objects.count() == journal
    edited = text.replace(",planned,test,", ",in_operation,test,")
    report = reimport(edited)
    assert (report.updated, report.unchanged) == (1, 4)
    assert CI.objects.get(pk=cmdb_data["vm"].pk).status == "in_operation"


def test_round_trip_into_an_empty_cmdb_recreates_the_same_cis(cmdb_data):
    text = exported()
    relationships = io.StringIO()
    export.export_relationships(relationships)
    keep = [row[1:-1] for row in snapshot()]  # without number and version
    Relationship.objects.all().delete()
    CI.objects.all().delete()
    assert reimport(text).created == 5
    assert [row[1:-1] for row in snapshot()] == keep
    # The relationship file names CIs by number; the recreated CIs have new numbers.
    report = reimport(relationships.getvalue())
    assert report.relationships_created == 0 and report.rejected == 3


def test_relationship_export_round_trip(cmdb_data):
    out = io.StringIO()
    assert export.export_relationships(out) == 3
    report = reimport(out.getvalue())
    assert (report.relationships_created, report.relationships_unchanged) == (0, 3)


def test_export_is_scoped_and_filtered(cmdb_data, agent_brazil, agent_mexico):
    assert [r["name"] for r in csv.DictReader(io.StringIO(exported(agent_brazil)))] == ["br-laptop"]
    names = {r["name"] for r in csv.DictReader(io.StringIO(exported(agent_mexico)))}
    assert names == {'host, "primary"', "vm-ñandú-01", "Route Sales"}
    rows = list(csv.DictReader(io.StringIO(exported(ci_class="network_device"))))
    assert [r["name"] for r in rows] == ["rt-bog-01"]
    assert "attr.device_type" in rows[0] and "attr.cpu_count" not in rows[0]
    assert len(list(csv.DictReader(io.StringIO(exported(country="co"))))) == 1


def test_cli_export(cmdb_data, tmp_path, capsys):
    call_command("cmdb_export", "--class", "server")
    out = capsys.readouterr()
    assert out.out.startswith("number,class,name,") and "SN-H1" in out.out
    assert "1 rows exported" in out.err  # a virtual machine is its own class
    target = tmp_path / "cis.csv"
    call_command("cmdb_export", "--output", str(target))
    assert reimport(target.read_text(encoding="utf-8")).unchanged == 5
    call_command("cmdb_export", "--relationships", "--country", "MX")
    assert capsys.readouterr().out.count("runs_on") == 2


def test_api_export(cmdb_data, api_as, agent_mexico, end_user_mexico):
    assert api_as(None).get("/cmdb/export.csv").status_code == 401
    refused = api_as(end_user_mexico).get("/cmdb/export.csv")
    assert refused.status_code == 403 and refused["Content-Type"] == PROBLEM
    response = api_as(agent_mexico).get("/cmdb/export.csv", {"class": "server"})
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    text = b"".join(response.streaming_content).decode()
    assert [r["serial"] for r in csv.DictReader(io.StringIO(text))] == ["SN-H1"]
    response = api_as(agent_mexico).get("/cmdb/export.csv", {"relationships": "true"})
    assert b"".join(response.streaming_content).decode().count("runs_on") == 2
