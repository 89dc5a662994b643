"""Impact analysis: upstream walk, services, business processes, countries, paths."""

from __future__ import annotations

from itsmo.cmdb import services as cmdb
from itsmo.cmdb.impact import impact, service_dependencies


def _numbers(path):
    return [step.id for step in path]


def test_wan_link_in_colombia_impacts_route_sales_for_sales_in_colombia(story):
    # Given the WAN link of the Bogotá distribution centre fails
    result = impact([story["wan"].pk])

    # Then the router and the handhelds are affected, with the path that explains it
    by_id = {ci.id: ci for ci in result.cis}
    assert by_id[story["wan"].pk].depth == 0
    assert by_id[story["router"].pk].depth == 1
    handhelds = by_id[story["handhelds"].pk]
    assert handhelds.depth == 2
    assert _numbers(handhelds.path) == [story["wan"].pk, story["router"].pk, story["handhelds"].pk]
    assert [s.relation for s in handhelds.path] == [None, "connects_to", "depends_on"]
    # and the server and the application are not (they are downstream)
    assert story["app"].pk not in by_id and story["server"].pk not in by_id

    # And Handheld Route Sales is affected in Colombia only, for the Sales process
    [service] = result.services
    assert service.code == "route-sales"
    assert service.countries == ["CO"]
    assert service.via == [story["handhelds"].pk]
    assert _numbers(service.path)[-1] == story["handhelds"].pk
    [process] = result.business_processes
    assert (process.code, process.weight, process.countries) == ("sales", 80, ["CO"])
    assert result.countries == ["CO"]
    assert result.total == 3 and not result.truncated


def test_central_ci_in_a_data_centre_impacts_every_country_of_the_service(story):
    result = impact([story["server"].pk])

    assert [ci.id for ci in result.cis] == [
        story["server"].pk,
        story["app"].pk,
        story["handhelds"].pk,
    ]
    [service] = result.services
    assert service.countries == ["BR", "CO", "MX"]
    assert service.depth == 1
    assert result.countries == ["BR", "CO", "MX"]


def test_cycles_terminate(story):
    # Given a dependency cycle wan → handhelds → router → wan
    cmdb.add_relationship(
        actor=None, source=story["wan"], target=story["handhelds"], type="depends_on"
    )
    result = impact([story["wan"].pk], depth=25)
    assert {ci.id for ci in result.cis} == {
        story["wan"].pk,
        story["router"].pk,
        story["handhelds"].pk,
    }
    assert {ci.id: ci.depth for ci in result.cis}[story["wan"].pk] == 0


def test_depth_limit_is_honoured(story):
    result = impact([story["wan"].pk], depth=1)
    assert {ci.id for ci in result.cis} == {story["wan"].pk, story["router"].pk}
    assert result.services == []

    assert [ci.id for ci in impact([story["wan"].pk], depth=0).cis] == [story["wan"].pk]


def test_multiple_roots_take_the_shortest_path(story):
    result = impact([story["wan"].pk, story["server"].pk])
    by_id = {ci.id: ci for ci in result.cis}
    assert by_id[story["handhelds"].pk].depth == 2
    assert sorted(result.roots) == sorted([story["wan"].pk, story["server"].pk])
    [service] = result.services
    assert service.depth == 1  # through the application, one step from the server
    assert service.countries == ["BR", "CO", "MX"]


def test_retired_cis_are_not_walked_through(story):
    cmdb.retire_ci(story["router"], actor=None)
    result = impact([story["wan"].pk])
    assert [ci.id for ci in result.cis] == [story["wan"].pk]


def test_no_roots_no_impact(db):
    result = impact([])
    assert result.cis == [] and result.total == 0


def test_service_dependencies_walk_downstream(story, route_sales):
    result = service_dependencies(route_sales)
    by_id = {ci.id: ci for ci in result.cis}
    assert by_id[story["handhelds"].pk].depth == 0
    assert by_id[story["app"].pk].depth == 0
    assert by_id[story["router"].pk].depth == 1
    assert by_id[story["server"].pk].depth == 1
    assert by_id[story["wan"].pk].depth == 2
    assert _numbers(by_id[story["wan"].pk].path) == [
        story["handhelds"].pk,
        story["router"].pk,
        story["wan"].pk,
    ]
    assert result.services == []


def test_service_dependencies_name_other_services(story, route_sales, colombia):
    from itsmo.catalog import services as catalog

    wan_service = catalog.create_service(
        actor=None, code="wan", name="WAN", kind="technical", countries=[colombia]
    )
    cmdb.link_service(wan_service, story["wan"], actor=None)
    result = service_dependencies(route_sales, depth=5)
    [dependency] = result.services
    assert dependency.code == "wan" and dependency.depth == 2


def test_limit_returns_the_closest_cis_and_the_full_total(story):
    result = impact([story["wan"].pk], limit=2)
    assert [ci.id for ci in result.cis] == [story["wan"].pk, story["router"].pk]
    assert result.total == 3 and result.truncated and not result.capped
    # the services of every affected CI are still found, through the CIs not returned
    [service] = result.services
    assert service.code == "route-sales" and service.via == [story["handhelds"].pk]


def test_walk_cap_stops_the_walk_and_reports_truncation(story):
    # Given the walk may produce only two (CI, depth) rows
    result = impact([story["wan"].pk], max_walk=2)

    # Then the closest CIs are found, with their shortest paths, and the result says so
    assert [ci.id for ci in result.cis] == [story["wan"].pk, story["router"].pk]
    assert _numbers(result.cis[1].path) == [story["wan"].pk, story["router"].pk]
    assert result.total == 2 and result.truncated and result.capped
    assert result.services == []

    # and a cap the walk does not reach changes nothing
    full = impact([story["wan"].pk], max_walk=4)
    assert full.total == 3 and not full.truncated and not full.capped


def test_walk_cap_is_a_setting(story, settings):
    settings.ITSMO_IMPACT_MAX_WALK = 1
    result = impact([story["wan"].pk])
    assert [ci.id for ci in result.cis] == [story["wan"].pk]
    assert result.truncated and result.capped


def test_diamond_keeps_every_parent_at_minimum_depth_and_the_first_path(story, classes):
    # Given a second router between the WAN link and the handhelds (a diamond) and a
    # longer way round through the server
    router2 = cmdb.create_ci(
        actor=None,
        name="rt-bog-dc-02",
        ci_class=classes["network_device"],
        attributes={"device_type": "router"},
    )
    cmdb.add_relationship(actor=None, source=router2, target=story["wan"], type="connects_to")
    cmdb.add_relationship(actor=None, source=story["handhelds"], target=router2, type="depends_on")
    result = impact([story["wan"].pk])
    handhelds = {ci.id: ci for ci in result.cis}[story["handhelds"].pk]
    assert handhelds.depth == 2
    first = min(story["router"].pk, router2.pk)
    assert [p for p, _ in handhelds.parents] == sorted([story["router"].pk, router2.pk])
    assert _numbers(handhelds.path) == [story["wan"].pk, first, story["handhelds"].pk]
    assert result.total == 4 and not result.truncated


def test_service_dependencies_walk_cap(story, route_sales):
    result = service_dependencies(route_sales, max_walk=2)
    assert result.truncated and result.capped and result.total == 2
    assert all(ci.depth == 0 for ci in result.cis)
