"""The demo incidents (scale small) and the bulk path's equivalence with the services."""

from __future__ import annotations

import random
from datetime import timedelta
from statistics import mean

import pytest
from django.utils import timezone

from itsmo.core import demo
from itsmo.core.models import JournalEntry
from itsmo.incidents import demo as incidents_demo
from itsmo.incidents.models import Incident, Status
from itsmo.slm.models import SLAClock

CLOCK_FIELDS = (
    "definition_id",
    "metric",
    "target_seconds",
    "started_at",
    "stopped_at",
    "pauses",
    "elapsed_business_seconds",
    "paused_seconds",
    "state",
    "due_at",
    "breached_at",
    "next_warning_threshold",
    "next_warning_at",
    "last_warned_threshold",
)
SKIPPED = {"id", "number", "created_at"}


@pytest.fixture(autouse=True)
def tasks_at_once(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def loaded(db):
    return demo.run(scale="small", password="demo-password-1", only=["incidents"])


def _record(incident: Incident) -> dict:
    return {
        f.attname: getattr(incident, f.attname)
        for f in Incident._meta.concrete_fields
        if f.attname not in SKIPPED
    }


def _journal(incident: Incident) -> list[tuple]:
    rows = JournalEntry.objects.for_record(incident).order_by("occurred_at", "id")
    return [
        (
            e.kind,
            e.field,
            e.old_value.replace(incident.number, "#"),
            e.new_value.replace(incident.number, "#"),
            e.body,
            e.actor_id,
            e.occurred_at,
        )
        for e in rows
    ]


def _clocks(incident: Incident) -> list[tuple]:
    rows = SLAClock.objects.filter(incident=incident).order_by("definition_id", "metric")
    return [tuple(getattr(c, name) for name in CLOCK_FIELDS) for c in rows]


def test_demo_incidents_have_volume_seasonality_and_regional_maturity(loaded):
    incidents = Incident.objects.all()
    assert 1_400 <= incidents.count() <= 1_500
    assert incidents.values("country").distinct().count() == 16
    assert incidents.filter(is_major=True).count() >= 1
    assert incidents.exclude(status__in=[Status.CLOSED]).exists()
    # weekly seasonality: Mondays far busier than Sundays
    by_day = [0] * 7
    for opened in incidents.values_list("opened_at", flat=True):
        by_day[opened.weekday()] += 1
    assert by_day[0] > 3 * by_day[6]
    # every incident has its journal and clocks
    assert SLAClock.objects.values("incident").distinct().count() == incidents.count()
    assert JournalEntry.objects.filter(kind="created").count() >= incidents.count()
    assert SLAClock.objects.filter(state="breached").exists()

    def hours(region: str) -> float:
        rows = incidents.filter(region__code=region, resolved_at__isnull=False)
        return mean(
            (r - o).total_seconds() / 3600 for o, r in rows.values_list("opened_at", "resolved_at")
        )

    def missing_ci(region: str) -> float:
        rows = incidents.filter(region__code=region)
        return rows.filter(ci__isnull=True).count() / rows.count()

    assert hours("mexico") < hours(incidents_demo.NEWEST_REGION)
    assert missing_ci("mexico") < missing_ci(incidents_demo.NEWEST_REGION)
    mexico = incidents.filter(region__code="mexico")
    newest = incidents.filter(region__code=incidents_demo.NEWEST_REGION)
    assert mean(mexico.values_list("reassignment_count", flat=True)) < mean(
        newest.values_list("reassignment_count", flat=True)
    )
    # a search finds demo incidents
    from itsmo.search import services as search

    smo = loaded.data["users"]["smo"]
    assert search.search(Incident, "printer", smo).exists()


def test_bulk_path_writes_what_the_services_write(loaded):
    loaded.random = random.Random(7)
    now = timezone.now().replace(microsecond=0) - timedelta(days=1)
    planner = incidents_demo.Planner(loaded, now)
    plans = [planner.plan(major=True)] + [planner.plan() for _ in range(40)]
    plans = [p for p in plans if p is not None]
    kinds = {e.kind for p in plans for e in p.events}
    assert {"start", "assign", "comment", "resolve", "close"} <= kinds
    by_services = [incidents_demo.write_with_services(plan) for plan in plans]
    by_bulk = incidents_demo.write_bulk(plans)
    for served, bulk in zip(by_services, by_bulk, strict=True):
        served = Incident.objects.get(pk=served.pk)
        bulk = Incident.objects.get(pk=bulk.pk)
        assert _record(bulk) == _record(served)
        assert _journal(bulk) == _journal(served)
        assert _clocks(bulk) == _clocks(served)
        assert hasattr(bulk, "survey") == hasattr(served, "survey")
