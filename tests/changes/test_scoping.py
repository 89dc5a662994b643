"""Region scoping of changes: the same choke point as every operational record."""

from __future__ import annotations

import pytest

from itsmo.changes import services
from itsmo.changes.models import Change
from itsmo.core.errors import NotFound


def test_agents_see_their_countries_smo_sees_all(
    new_change, agent_mexico, agent_brazil, smo_analyst, end_user_mexico, brazil
):
    mexican = new_change(title="MX", cis=("db",))
    brazilian = new_change(title="BR", cis=("br",), country=brazil)

    assert list(Change.objects.visible_to(agent_mexico)) == [mexican]
    assert list(Change.objects.visible_to(agent_brazil)) == [brazilian]
    assert set(Change.objects.visible_to(smo_analyst)) == {mexican, brazilian}
    assert not Change.objects.visible_to(end_user_mexico).exists()
    assert not Change.objects.visible_to(None).exists()
    with pytest.raises(NotFound):
        services.get_visible(mexican.number, agent_brazil)


def test_region_follows_the_country(new_change, brazil, agent_mexico, region_brazil):
    change = new_change()
    services.update_change(change, actor=agent_mexico, version=change.version, country=brazil)

    change.refresh_from_db()
    assert change.region == region_brazil


def test_impact_names_outside_the_scope_are_redacted(new_change, agent_brazil, cmdb_mx):
    change = new_change(cis=("db",))

    result = services.impact_analysis(change, user=agent_brazil)

    assert all(not ci.is_visible for ci in result.cis)
