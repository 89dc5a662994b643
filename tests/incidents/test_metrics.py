"""The KPIs incidents register: counts, times to resolve, shares, SLA compliance."""

from __future__ import annotations

import datetime as dt

import pytest

from itsmo.core import metrics
from itsmo.core.metrics import Better, Slice
from itsmo.incidents import metrics as incident_metrics, services

UTC = dt.UTC


def test_the_registry_holds_the_incident_kpis():
    ids = {m.id for m in metrics.all_metrics(process="incidents")}
    assert {
        "incidents.opened",
        "incidents.resolved",
        "incidents.time_to_resolve.median",
        "incidents.time_to_resolve.p90",
        "incidents.reassigned_share",
        "incidents.reopened_share",
        "incidents.fcr_share",
        "incidents.sla_compliance",
        "incidents.opened.p1",
    } <= ids
    assert metrics.get("incidents.fcr_share").better == Better.HIGHER
    with pytest.raises(ValueError):
        metrics.register(metrics.Metric("x", "x", "count", "sideways", lambda s: 0))


def test_percentile():
    assert incident_metrics.percentile([], 0.5) is None
    assert incident_metrics.percentile([1, 2, 3, 4], 0.5) == 2.5
    assert incident_metrics.percentile([10], 0.9) == 10


def test_kpis_over_a_period(
    frozen,
    open_mexico_incident,
    agent_mexico,
    end_user_mexico,
    l2_mexico,
    mexico,
    brazil,
    any_sla,
    desk_mexico,
):
    frozen.set(dt.datetime(2026, 9, 14, 14, 0, tzinfo=UTC))  # Monday 08:00 in Mexico
    fast = open_mexico_incident(impact=1, urgency=1)
    slow = open_mexico_incident(assignment_group=desk_mexico)
    reopened = open_mexico_incident()
    services.assign(slow, actor=agent_mexico, group=l2_mexico)
    services.update_incident(
        fast, actor=agent_mexico, version=fast.version, is_first_contact_resolution=True
    )
    frozen.advance(hours=1)
    services.resolve(fast, actor=agent_mexico, code="fixed", notes="ok")
    services.resolve(reopened, actor=agent_mexico, code="fixed", notes="ok")
    services.reopen(reopened, actor=end_user_mexico)
    frozen.advance(hours=2)
    services.resolve(reopened, actor=agent_mexico, code="fixed", notes="ok")
    frozen.advance(hours=6)
    services.resolve(slow, actor=agent_mexico, code="fixed", notes="ok")
    september = Slice(
        dt.datetime(2026, 9, 1, tzinfo=UTC), dt.datetime(2026, 10, 1, tzinfo=UTC), country=mexico
    )
    assert metrics.compute("incidents.opened", september) == 3
    assert metrics.compute("incidents.resolved", september) == 3
    assert metrics.compute("incidents.time_to_resolve.median", september) == 3
    assert metrics.compute("incidents.time_to_resolve.p90", september) == pytest.approx(7.8)
    assert metrics.compute("incidents.reassigned_share", september) == pytest.approx(1 / 3)
    assert metrics.compute("incidents.reopened_share", september) == pytest.approx(1 / 3)
    assert metrics.compute("incidents.fcr_share", september) == pytest.approx(1 / 3)
    assert metrics.compute("incidents.opened.p1", september) == 1
    assert metrics.compute("incidents.sla_compliance", september) == 1.0
    elsewhere = Slice(september.start, september.end, country=brazil)
    assert metrics.compute("incidents.opened", elsewhere) == 0
    assert metrics.compute("incidents.time_to_resolve.median", elsewhere) is None
