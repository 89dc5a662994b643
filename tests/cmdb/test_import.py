"""CMDB import: CSV and JSON, identity upsert, every kind of bad input, CLI and API."""

from __future__ import annotations

import io
import json
import os
import time

import pytest
from django.core.management import call_command

from itsmo.cmdb import importer, services as cmdb
from itsmo.cmdb.models import CI, Relationship
from itsmo.core.errors import PermissionDenied
from itsmo.core.models import JournalEntry, JournalKind
from itsmo.core.numbering import next_reference, next_values

PROBLEM = "application/problem+json"
HEADER = "class,name,serial,status,country,site,attr.cpu_count,attr.ip_address,attr.device_type"


def run(text: str | bytes, **options) -> importer.ImportReport:
    data = text.encode() if isinstance(text, str) else text
    return importer.import_file(io.BytesIO(data), **options)


def state() -> tuple:
    """What must not change when an import is refused."""
    return (
        CI.objects.count(),
        Relationship.objects.count(),
        JournalEntry.objects.count(),
        list(CI.objects.order_by("pk").values_list("name", "version", "attributes")),
    )


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


@pytest.fixture
def org(classes, mexico, colombia, dc_bogota, datacentre_mexico):
    return classes


# --- creating and updating ---------------------------------------------------------------


def test_csv_creates_cis_with_numbers_attributes_and_journal(org, mexico):
    report = run(
        csv_text(
            "server,srv-1,SN-1,,MX,,8,10.0.0.1,",
            "server,srv-2,,planned,,dc-mx-qro,4,,",
            "network_device,rt-1,,,CO,dc-bogota,,,router",
        )
    )
    assert report.errors == []
    assert (report.created, report.updated, report.unchanged, report.rejected) == (3, 0, 0, 0)
    assert report.committed
    srv1 = CI.objects.get(serial="SN-1")
    assert srv1.number.startswith("CI") and len(srv1.number) == 9
    assert srv1.attributes == {"cpu_count": 8, "ip_address": "10.0.0.1"}
    assert srv1.country == mexico
    srv2 = CI.objects.get(name="srv-2")
    assert srv2.status == "planned" and srv2.site.code == "dc-mx-qro"
    assert srv2.country == mexico  # from the site
    for ci in CI.objects.all():
        created = JournalEntry.objects.for_record(ci).get()
        assert created.kind == JournalKind.CREATED and created.new_value == str(ci)
    assert len(set(CI.objects.values_list("number", flat=True))) == 3


def test_reimport_is_idempotent_and_a_changed_row_is_updated_and_journaled(org):
    text = csv_text("server,srv-1,SN-1,,MX,,8,10.0.0.1,", "server,srv-2,,,,dc-mx-qro,4,,")
    assert run(text).created == 2
    before = state()
    again = run(text)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert state() == before
    changed = run(
        csv_text(
            "server,srv-1,SN-1,,MX,,16,10.0.0.1,", "server,srv-2,,under_maintenance,,dc-mx-qro,4,,"
        )
    )
    assert (changed.created, changed.updated, changed.unchanged) == (0, 2, 0)
    assert CI.objects.count() == 2
    srv1 = CI.objects.get(serial="SN-1")
    assert srv1.attributes["cpu_count"] == 16 and srv1.version == 2
    change = JournalEntry.objects.for_record(srv1).get(kind=JournalKind.FIELD_CHANGE)
    assert (change.field, change.old_value, change.new_value) == ("attributes.cpu_count", "8", "16")
    srv2 = CI.objects.get(name="srv-2")
    status = JournalEntry.objects.for_record(srv2).get(kind=JournalKind.STATE_CHANGE)
    assert (status.old_value, status.new_value) == ("in_operation", "under_maintenance")


def test_import_writes_what_the_services_write(org, mexico):
    """The bulk path and create_ci/update_ci leave the same records and journal."""
    run(csv_text("server,srv-bulk,SN-B,,MX,,8,,"))
    by_service = cmdb.create_ci(
        actor=None,
        name="srv-svc",
        ci_class=org["server"],
        serial="SN-S",
        country=mexico,
        attributes={"cpu_count": "8"},
    )
    bulk = CI.objects.get(serial="SN-B")
    fields = [
        "status",
        "environment",
        "country_id",
        "site_id",
        "attributes",
        "version",
        "asset_tag",
        "description",
        "discovery_source",
        "last_seen_at",
    ]
    assert [getattr(bulk, f) for f in fields] == [getattr(by_service, f) for f in fields]
    entries = [
        list(JournalEntry.objects.for_record(ci).values_list("kind", "field"))
        for ci in (bulk, by_service)
    ]
    assert entries[0] == entries[1]
    run(csv_text("server,srv-bulk,SN-B,,MX,,9,,"))
    cmdb.update_ci(by_service, actor=None, version=None, attributes={"cpu_count": 9})
    entries = [
        list(
            JournalEntry.objects.for_record(ci).values_list(
                "kind", "field", "old_value", "new_value"
            )
        )
        for ci in (bulk, by_service)
    ]
    assert entries[0][1:] == entries[1][1:]
    bulk.refresh_from_db()
    assert bulk.version == 2


def test_identity_without_serial_is_class_name_and_site(org):
    run(csv_text("server,same-name,,,,dc-mx-qro,,,", "server,same-name,,,CO,dc-bogota,,,"))
    assert CI.objects.filter(name="same-name").count() == 2
    report = run(csv_text("server,same-name,,,,dc-bogota,2,,"))
    assert (report.created, report.updated) == (0, 1)


def test_columns_left_out_are_kept_and_empty_cells_clear(org):
    run(csv_text("server,srv-1,SN-1,,MX,,8,10.0.0.1,"))
    report = run("class,name,serial,attr.ip_address\nserver,srv-1,SN-1,\n")
    assert report.updated == 1
    ci = CI.objects.get(serial="SN-1")
    assert ci.attributes == {"cpu_count": 8}
    assert ci.country.code == "MX"


# --- bad input: precise message, line number, nothing changed -------------------------------

BAD_ROWS = [
    ("bogus_class,x,,,MX,,,,", "class", "unknown CI class 'bogus_class'"),
    ("server,x,,,MX,,eight,,", "attributes.cpu_count", "expected an integer"),
    ("server,x,,,MX,,,999.1.1.1,", "attributes.ip_address", "IPv4 or IPv6"),
    ("server,x,,,ZZ,,,,", "country", "unknown country 'ZZ'"),
    ("server,x,,,,nowhere,,,", "site", "unknown site 'nowhere'"),
    ("server,x,,,MX,dc-bogota,,,", "site", "is not in"),
    ("server,x,,sleeping,MX,,,,", "status", "unknown status 'sleeping'"),
    ("server,,,,MX,,,,", "name", "a CI needs a name"),
    ("network_device,x,,,MX,,,,", "attributes.device_type", "is required"),
    ("network_device,x,,,MX,,,,toaster", "attributes.device_type", "expected one of"),
    ("handheld,x,,,MX,,4,,", "attributes.cpu_count", "unknown attribute 'cpu_count'"),
    ("server,x,,,MX,,,", None, "expected 9 fields as in the header, found 8"),
    ("server," + "n" * 201 + ",,,MX,,,,", "name", "at most 200 characters"),
]


@pytest.mark.parametrize(("row", "field", "reason"), BAD_ROWS)
def test_a_bad_row_is_reported_with_its_line_and_nothing_changes(org, row, field, reason):
    run(csv_text("server,existing,SN-E,,MX,,1,,"))
    before = state()
    report = run(csv_text("server,good,SN-G,,MX,,2,,", row, "server,existing,SN-E,,MX,,3,,"))
    assert [(e.line, e.field) for e in report.errors] == [(3, field)]
    assert reason in report.errors[0].reason
    assert report.rejected == 1 and not report.committed
    assert state() == before


def test_duplicate_identities_inside_one_file(org):
    report = run(
        csv_text(
            "server,a,SN-1,,MX,,,,",
            "server,b,SN-1,,MX,,,,",
            "server,c,,,,dc-mx-qro,,,",
            "server,c,,,,dc-mx-qro,,,",
            "server,c,,,,dc-bogota,,,",
        )
    )
    assert [(e.line, e.field) for e in report.errors] == [(3, "serial"), (5, "name")]
    assert "duplicate identity (class + serial) of line 2" in report.errors[0].reason
    assert "class + name + site" in report.errors[1].reason
    assert CI.objects.count() == 0


def test_every_error_is_reported_not_just_the_first(org):
    rows = [f"server,s{i},,,ZZ,,,," for i in range(50)]
    report = run(csv_text(*rows))
    assert [e.line for e in report.errors] == list(range(2, 52))
    assert report.rejected == 50


def test_status_changes_follow_the_lifecycle_table(org):
    run(csv_text("server,srv,SN-1,planned,MX,,,,"))
    before = state()
    report = run(csv_text("server,srv,SN-1,under_maintenance,MX,,,,"))
    assert report.errors[0].field == "status" and report.errors[0].line == 2
    assert state() == before


def test_partial_loads_the_good_rows_and_lists_the_bad(org):
    report = run(
        csv_text("server,ok-1,SN-1,,MX,,,,", "server,bad,SN-2,,ZZ,,,,", "server,ok-2,SN-3,,MX,,,,"),
        partial=True,
    )
    assert report.committed and (report.created, report.rejected) == (2, 1)
    assert [(e.line, e.field) for e in report.errors] == [(3, "country")]
    assert set(CI.objects.values_list("name", flat=True)) == {"ok-1", "ok-2"}


def test_dry_run_validates_everything_and_writes_nothing(org):
    before = state()
    report = run(csv_text("server,ok-1,SN-1,,MX,,,,", "server,ok-2,SN-2,,MX,,,,"), dry_run=True)
    assert (report.created, report.errors, report.committed) == (2, [], False)
    assert state() == before
    assert next_reference("CI") == "CI0001001"  # the numbers were not consumed


def test_batches_and_the_bulk_numbering(org):
    rows = [f"server,srv-{i},SN-{i},,MX,,{i},," for i in range(23)]
    report = run(csv_text(*rows), batch_size=5)
    assert report.created == 23
    numbers = sorted(CI.objects.values_list("number", flat=True))
    assert numbers == [f"CI{n:07d}" for n in range(1001, 1024)]
    report = run(csv_text(*rows, "server,new,SN-NEW,,MX,,,,"), batch_size=5)
    assert (report.created, report.unchanged) == (1, 23)


def test_next_values_reserves_a_block(db):
    assert list(next_values("TST", 3)) == [1001, 1002, 1003]
    assert list(next_values("TST", 2)) == [1004, 1005]
    assert next_reference("TST") == "TST0001006"
    assert list(next_values("TST", 0)) == []


def test_bom_and_windows_line_endings(org):
    text = "\ufeff" + csv_text("server,srv-1,SN-1,,MX,,8,,", "server,srv-2,SN-2,,MX,,,,")
    report = run(text.replace("\n", "\r\n").encode("utf-8"))
    assert (report.created, report.errors) == (2, [])
    assert CI.objects.get(serial="SN-1").attributes == {"cpu_count": 8}
    bad = run(text.replace("\n", "\r\n").replace("SN-2,,MX", "SN-2,,ZZ"))
    assert [(e.line, e.field) for e in bad.errors] == [(3, "country")]


def test_quoted_multiline_description_keeps_line_numbers(org):
    text = (
        "class,name,serial,country,description\r\n"
        'server,a,SN-1,MX,"two\r\nlines"\r\nserver,b,SN-2,ZZ,x\r\n'
    )
    report = run(text)
    assert [(e.line, e.field) for e in report.errors] == [(4, "country")]


# --- files that are not imports at all ----------------------------------------------------


def test_fifty_megabytes_of_garbage_is_refused_fast(org):
    garbage = os.urandom(50 * 1024 * 1024)
    before = state()
    started = time.monotonic()
    with pytest.raises(importer.ImportFileError) as caught:
        run(garbage)
    assert time.monotonic() - started < 2
    assert caught.value.field == "file"
    assert "NUL byte" in caught.value.message or "not UTF-8" in caught.value.message
    assert state() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"\xff\xfe" + "class,name".encode("utf-16-le"), "NUL byte"),
        ("clase,nombre\nservidor,é\n".encode("latin-1"), "not UTF-8"),
        (b"lorem ipsum dolor sit amet\nconsectetur\n", "not a CMDB import header"),
        (b"x" * (70 * 1024), "longer than"),
        (b"class,name,colour\nserver,a,red\n", "unknown column 'colour'"),
        (b"class,name,name\n", "appears twice"),
        (b"type,source_name\n", "source_number or source_class"),
        (b"\x1b[31mclass,name\n", "control character"),
    ],
)
def test_unusable_files_get_a_precise_file_error(org, data, message):
    with pytest.raises(importer.ImportFileError) as caught:
        run(data)
    assert message in caught.value.message
    assert caught.value.field == "file"


def test_a_printable_garbage_file_is_refused_at_the_header(org):
    text = "".join(chr(33 + (i * 7919) % 90) for i in range(5 * 1024 * 1024))
    started = time.monotonic()
    with pytest.raises(importer.ImportFileError, match="line 1"):
        run(text)
    assert time.monotonic() - started < 2


def test_broken_csv_after_a_good_start_rolls_back(org):
    big = "x" * 200_000
    text = csv_text("server,ok,SN-1,,MX,,,,", f'server,"{big},SN-2,,MX,,,,')
    with pytest.raises(importer.ImportFileError, match="line 3: broken CSV"):
        run(text, batch_size=1)
    assert CI.objects.count() == 0


def test_a_garbage_body_under_a_valid_header_stops_after_max_errors(org):
    rows = [f"{i},garbage" for i in range(5000)]
    report = run(csv_text(*rows), max_errors=100)
    assert report.stopped_early and len(report.errors) == 101
    assert "stopped after 100 errors" in report.errors[-1].reason
    assert CI.objects.count() == 0


# --- relationships ------------------------------------------------------------------------

REL_HEADER = (
    "source_number,source_class,source_name,source_serial,source_site,type,"
    "target_number,target_class,target_name,target_serial,target_site"
)


@pytest.fixture
def topology(org):
    run(
        csv_text(
            "server,host-1,SN-H1,,MX,,,,",
            "virtual_machine,vm-1,,,,dc-mx-qro,,,",
            "application,app-1,,,,dc-mx-qro,,,",
            "rack,rack-1,,,,dc-mx-qro,,,",
            "rack,rack-2,,,,dc-mx-qro,,,",
        )
    )
    return {ci.name: ci for ci in CI.objects.all()}


def rel_text(*rows: str) -> str:
    return "\n".join([REL_HEADER, *rows]) + "\n"


def test_relationships_by_identity_and_number_with_journal(topology):
    host = topology["host-1"]
    report = run(
        rel_text(
            f",virtual_machine,vm-1,,dc-mx-qro,runs_on,{host.number},,,,",
            ",application,app-1,,dc-mx-qro,runs_on,,virtual_machine,vm-1,,dc-mx-qro",
            ",rack,rack-1,,dc-mx-qro,contains,,server,,SN-H1,",
        )
    )
    assert report.errors == [] and report.relationships_created == 3
    vm = topology["vm-1"]
    assert Relationship.objects.filter(source=vm, target=host, type="runs_on").exists()
    journal = JournalEntry.objects.for_record(host).filter(field="relationships")
    assert {e.new_value for e in journal} == {
        f"hosts {vm.number} vm-1",
        f"part of {topology['rack-1'].number} rack-1",
    }
    again = run(rel_text(f",virtual_machine,vm-1,,dc-mx-qro,runs_on,{host.number},,,,"))
    assert (again.relationships_created, again.relationships_unchanged) == (0, 1)
    assert Relationship.objects.count() == 3


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        (
            ",server,,SN-NOPE,,depends_on,,rack,rack-1,,dc-mx-qro",
            "source",
            "source CI not found: no server with serial 'SN-NOPE'",
        ),
        (
            ",rack,rack-1,,dc-mx-qro,depends_on,CI9999999,,,,",
            "target",
            "target CI not found: no CI9999999",
        ),
        (
            ",rack,rack-1,,dc-mx-qro,depends_on,,rack,rack-1,,dc-mx-qro",
            "target",
            "cannot be related to itself",
        ),
        (
            ",rack,rack-1,,dc-mx-qro,likes,,rack,rack-2,,dc-mx-qro",
            "type",
            "unknown relationship type 'likes'",
        ),
        (
            ",rack,rack-1,,,depends_on,,rack,rack-2,,dc-mx-qro",
            "source",
            "no rack named 'rack-1' without a site",
        ),
        (
            ",rack,rack-2,,dc-mx-qro,contains,,rack,rack-1,,dc-mx-qro",
            "target",
            "containment cannot form a cycle",
        ),
        (
            ",rack,rack-1,,dc-mx-qro,depends_on,,rack,rack-2,,dc-mx-qro",
            "target",
            "the same relationship is on line 2",
        ),
    ],
)
def test_bad_relationship_rows(topology, row, field, reason):
    run(rel_text(",rack,rack-1,,dc-mx-qro,contains,,rack,rack-2,,dc-mx-qro"))
    before = state()
    first = ",rack,rack-1,,dc-mx-qro,depends_on,,rack,rack-2,,dc-mx-qro"
    report = run(rel_text(first, row))
    assert [(e.line, e.field) for e in report.errors] == [(3, field)]
    assert reason in report.errors[0].reason
    assert state() == before


def test_containment_cycle_inside_one_file(topology):
    report = run(
        rel_text(
            ",rack,rack-1,,dc-mx-qro,contains,,rack,rack-2,,dc-mx-qro",
            ",rack,rack-2,,dc-mx-qro,contains,,server,,SN-H1,",
            ",server,,SN-H1,,contains,,rack,rack-1,,dc-mx-qro",
        )
    )
    assert [(e.line, e.field) for e in report.errors] == [(4, "target")]
    assert "cycle" in report.errors[0].reason
    assert Relationship.objects.count() == 0


# --- JSON -------------------------------------------------------------------------------------


def test_json_cis_and_relationships_in_one_file(org):
    document = {
        "relationships": [
            {
                "source": {"class": "virtual_machine", "name": "vm-1", "site": "dc-mx-qro"},
                "type": "runs_on",
                "target": {"class": "server", "serial": "SN-H1"},
            },
        ],
        "cis": [
            {
                "class": "server",
                "name": "host-1",
                "serial": "SN-H1",
                "country": "MX",
                "attributes": {"cpu_count": 32, "memory_gb": 256.5},
            },
            {
                "class": "virtual_machine",
                "name": "vm-1",
                "site": "dc-mx-qro",
                "attr.hypervisor": "vmware",
            },
        ],
    }
    report = run(json.dumps(document, indent=2), fmt="json")
    assert report.errors == []
    assert (report.kind, report.created, report.relationships_created) == ("mixed", 2, 1)
    assert CI.objects.get(serial="SN-H1").attributes == {"cpu_count": 32, "memory_gb": 256.5}
    assert CI.objects.get(name="vm-1").attributes == {"hypervisor": "vmware"}
    again = run(json.dumps(document), filename="cmdb.json")
    assert (again.unchanged, again.relationships_unchanged) == (2, 1)


def test_json_bad_items_have_line_numbers(org):
    text = (
        '{"cis": [\n'
        '  {"class": "server", "name": "ok", "serial": "SN-1", "country": "MX"},\n'
        '  {"class": "server", "name": "bad", "country": "MX",\n'
        '   "attributes": {"cpu_count": "many"}},\n'
        '  {"class": "server", "name": 7},\n'
        '  "not an object"\n'
        "]}\n"
    )
    report = run(text)
    assert [(e.line, e.field) for e in report.errors] == [
        (3, "attributes.cpu_count"),
        (5, "name"),
        (6, None),
    ]
    assert CI.objects.count() == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"cis": [{"class": "server", "name": "a"},\n {"class": }]}', "line 2: broken JSON"),
        ('{"cis": [], "computers": []}', "unknown key 'computers'"),
        ('[{"class": "server"}]', "not a JSON import file"),
        ('{"cis": {"class": "server"}}', "broken JSON"),
        ("{}", "neither"),
        ('{"cis": []} trailing', "extra data"),
    ],
)
def test_broken_json_is_a_file_error_before_anything_is_written(org, text, message):
    with pytest.raises(importer.ImportFileError) as caught:
        run(text, fmt="json")
    assert message in caught.value.message
    assert CI.objects.count() == 0


# --- permissions ------------------------------------------------------------------------------


def test_end_users_may_not_import(org, end_user_mexico):
    with pytest.raises(PermissionDenied):
        run(csv_text("server,x,,,MX,,,,"), actor=end_user_mexico)


def test_an_agent_imports_only_in_the_countries_they_may_see(org, agent_mexico):
    report = run(
        csv_text("server,mx,SN-1,,MX,,,,", "server,co,SN-2,,CO,,,,"),
        actor=agent_mexico,
        partial=True,
    )
    assert report.created == 1
    assert [(e.line, e.field) for e in report.errors] == [(3, "country")]
    ci = CI.objects.get()
    assert JournalEntry.objects.for_record(ci).get().actor == agent_mexico


# --- command line -----------------------------------------------------------------------------


def test_cli_import_summary_and_exit_codes(org, tmp_path, capsys):
    good = tmp_path / "good.csv"
    good.write_text(csv_text("server,srv-1,SN-1,,MX,,8,,"))
    call_command("cmdb_import", str(good), "--dry-run")
    assert "created 1" in capsys.readouterr().out and CI.objects.count() == 0
    call_command("cmdb_import", str(good))
    out = capsys.readouterr()
    assert "created 1, updated 0, unchanged 0; rejected 0. written." in out.out
    assert "rows/s" in out.err
    bad = tmp_path / "bad.csv"
    bad.write_text(csv_text("server,srv-2,SN-2,,ZZ,,,,"))
    with pytest.raises(SystemExit) as exited:
        call_command("cmdb_import", str(bad))
    assert exited.value.code == 1
    out = capsys.readouterr()
    assert "line 2 [country]: unknown country 'ZZ'" in out.err
    assert "rolled back" in out.out
    call_command("cmdb_import", str(bad), "--partial")
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\x00\x01" * 1000)
    with pytest.raises(SystemExit) as exited:
        call_command("cmdb_import", str(garbage))
    assert exited.value.code == 2
    assert "NUL byte" in capsys.readouterr().err


def test_cli_json_with_an_actor(org, tmp_path, admin_user):
    path = tmp_path / "cis.data"
    path.write_text(json.dumps({"cis": [{"class": "server", "name": "a", "country": "MX"}]}))
    call_command("cmdb_import", str(path), "--format", "json", "--actor", "admin", "--no-progress")
    assert JournalEntry.objects.for_record(CI.objects.get()).get().actor == admin_user


# --- API --------------------------------------------------------------------------------------


def post_file(api, content: bytes, name="cis.csv", **data):
    upload = io.BytesIO(content)
    upload.name = name
    return api.client.post("/api/v1/cmdb/import", {"file": upload, **data}, **api.headers)


def test_api_import_refusals(org, api_as, end_user_mexico):
    content = csv_text("server,x,,,MX,,,,").encode()
    anonymous = post_file(api_as(None), content)
    assert anonymous.status_code == 401 and anonymous["Content-Type"] == PROBLEM
    refused = post_file(api_as(end_user_mexico), content)
    assert refused.status_code == 403 and refused["Content-Type"] == PROBLEM
    assert CI.objects.count() == 0


def test_api_import_returns_the_report(org, api_as, agent_mexico):
    api = api_as(agent_mexico)
    content = csv_text("server,ok,SN-1,,MX,,,,", "server,bad,SN-2,,MX,,x,,").encode()
    response = post_file(api, content, dry_run="true")
    body = response.json()
    assert response.status_code == 200
    assert body["dry_run"] and not body["committed"] and body["created"] == 1
    assert body["errors"] == [
        {"line": 3, "field": "attributes.cpu_count", "reason": body["errors"][0]["reason"]}
    ]
    assert CI.objects.count() == 0
    body = post_file(api, content).json()
    assert (body["committed"], body["rejected"]) == (False, 1) and CI.objects.count() == 0
    body = post_file(api, content, partial="1").json()
    assert (body["committed"], body["created"], body["rejected"]) == (True, 1, 1)
    response = api.client.post(
        "/api/v1/cmdb/import?dry_run=true", {"file": io.BytesIO(content)}, **api.headers
    )
    assert response.json()["dry_run"] is True


def test_api_bad_file_is_a_422_naming_file(org, api_as, agent_mexico):
    api = api_as(agent_mexico)
    response = post_file(api, b"\x00garbage" * 100)
    assert response.status_code == 422 and response["Content-Type"] == PROBLEM
    assert response.json()["field"] == "file" and "NUL byte" in response.json()["detail"]
    missing = api.client.post("/api/v1/cmdb/import", {}, **api.headers)
    assert missing.status_code == 422 and missing.json()["field"] == "file"
