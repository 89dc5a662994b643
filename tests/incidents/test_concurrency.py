"""Concurrent writers: intake never duplicates numbers or idempotent incidents; stale writes
lose. Real threads against the real database (``transaction=True``)."""

from __future__ import annotations

import pytest

from itsmo.core.errors import StaleVersion
from itsmo.incidents import services
from itsmo.incidents.models import Channel, Incident
from tests.concurrency import run_in_threads

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_intake_never_duplicates_numbers(end_user_mexico, agent_mexico, p2_sla):
    def work(index):
        return services.open_incident(
            caller=end_user_mexico,
            actor=agent_mexico,
            short_description=f"Parallel {index}",
            channel=Channel.API,
            impact=2,
            urgency=1,
        ).number

    results = run_in_threads(8, work)
    assert all(isinstance(r, str) for r in results), results
    assert len(set(results)) == 8
    assert Incident.objects.count() == 8


def test_concurrent_retries_with_one_idempotency_key_open_one_incident(
    end_user_mexico, agent_mexico
):
    def work(index):
        return services.open_incident(
            caller=end_user_mexico,
            actor=agent_mexico,
            short_description="Retried request",
            channel=Channel.API,
            idempotency_key="retry-me",
        ).pk

    results = run_in_threads(6, work)
    assert all(isinstance(r, int) for r in results), results
    assert len(set(results)) == 1
    assert Incident.objects.count() == 1


def test_of_two_writers_with_the_same_version_one_wins(incident_mexico, agent_mexico):
    version = incident_mexico.version

    def work(index):
        incident = Incident.objects.get(pk=incident_mexico.pk)
        services.update_incident(
            incident, actor=agent_mexico, version=version, short_description=f"writer {index}"
        )
        return "ok"

    results = run_in_threads(4, work)
    assert results.count("ok") == 1
    assert all(isinstance(r, StaleVersion) for r in results if r != "ok"), results
    assert Incident.objects.get(pk=incident_mexico.pk).version == version + 1
