"""SLA clocks on incidents: attach, pause/resume, stop, re-baseline, OLAs, the scan, compliance."""

from __future__ import annotations

import pytest

from itsmo.core.errors import PermissionDenied, ValidationFailed
from itsmo.incidents import services
from itsmo.slm import services as slm
from itsmo.slm.models import ClockState, DefinitionKind, Metric, PriorityChange, SLAClock
from tests.slm.conftest import at


def clock_of(incident, metric=Metric.RESOLUTION) -> SLAClock:
    return SLAClock.objects.exclude(state=ClockState.CANCELLED).get(
        incident=incident, metric=metric
    )


@pytest.fixture
def p2(frozen, p2_sla, open_mexico_incident, desk_mexico_managed):
    """A P2 incident opened Friday 11 September 2026 17:00 in Mexico City."""
    frozen.set(at("2026-09-11T17:00:00-06:00"))
    return open_mexico_incident(impact=2, urgency=1, assignment_group=desk_mexico_managed)


def test_a_p2_gets_a_response_and_a_resolution_clock_due_after_the_holiday(p2):
    assert p2.priority == 2
    resolution = clock_of(p2)
    assert resolution.state == ClockState.RUNNING
    assert resolution.due_at == at("2026-09-17T11:00:00-06:00")
    assert clock_of(p2, Metric.RESPONSE).due_at == at("2026-09-11T18:00:00-06:00")
    assert resolution.next_warning_threshold == 50
    assert resolution.next_warning_at == at("2026-09-15T09:00:00-06:00")  # 12 h in


def test_other_priorities_get_no_p2_clock(frozen, p2_sla, open_mexico_incident):
    incident = open_mexico_incident(impact=3, urgency=3)
    assert not SLAClock.objects.filter(incident=incident).exists()


def test_on_hold_pauses_and_resuming_moves_the_due(p2, frozen, agent_mexico):
    frozen.set(at("2026-09-14T09:00:00-06:00"))
    services.transition(p2, "in_progress", actor=agent_mexico)
    assert clock_of(p2, Metric.RESPONSE).state == ClockState.BREACHED  # due Friday 18:00
    services.transition(p2, "on_hold", actor=agent_mexico, reason="awaiting_caller")
    paused = clock_of(p2)
    assert paused.state == ClockState.PAUSED and paused.next_warning_at is None
    frozen.set(at("2026-09-14T12:00:00-06:00"))
    services.transition(p2, "in_progress", actor=agent_mexico)
    resumed = clock_of(p2)
    assert resumed.state == ClockState.RUNNING
    assert resumed.paused_seconds == 3 * 3600
    assert resumed.due_at == at("2026-09-17T14:00:00-06:00")  # three hours later
    assert resumed.elapsed_business_seconds == 2 * 3600  # Friday 17-18 + Monday 08-09


def test_resolving_stops_the_clock_and_reopening_resumes_it(
    p2, frozen, agent_mexico, end_user_mexico
):
    frozen.set(at("2026-09-14T10:00:00-06:00"))
    services.resolve(p2, actor=agent_mexico, code="fixed", notes="Reseated the cable")
    stopped = clock_of(p2)
    assert stopped.state == ClockState.ACHIEVED and stopped.stopped_at == frozen.now
    assert clock_of(p2, Metric.RESPONSE).state == ClockState.BREACHED
    frozen.set(at("2026-09-15T10:00:00-06:00"))
    services.reopen(p2, actor=end_user_mexico, reason="Still broken")
    again = clock_of(p2)
    assert again.state == ClockState.RUNNING and again.stopped_at is None
    # the 10 business hours spent resolved do not count
    assert again.due_at == at("2026-09-18T11:00:00-06:00")
    assert again.elapsed_business_seconds == 3 * 3600


def test_cancelling_cancels_every_clock(p2, agent_mexico):
    services.transition(p2, "cancelled", actor=agent_mexico)
    assert set(SLAClock.objects.filter(incident=p2).values_list("state", flat=True)) == {
        ClockState.CANCELLED
    }


def test_a_priority_change_rebaselines_from_the_opening(p2, frozen, agent_mexico):
    slm.create_definition(name="P1 fast", priority=1, resolution_target_minutes=4 * 60)
    frozen.set(at("2026-09-14T09:00:00-06:00"))
    services.update_incident(p2, actor=agent_mexico, version=p2.version, impact=1)
    assert p2.priority == 1
    new = clock_of(p2)
    assert new.definition.name == "P1 fast"
    assert new.started_at == p2.opened_at
    assert new.due_at == at("2026-09-14T11:00:00-06:00")  # 1 h Friday + 3 h Monday
    old = SLAClock.objects.get(incident=p2, definition__name="P2 standard", metric="resolution")
    assert old.state == ClockState.CANCELLED


def test_a_keep_definition_keeps_its_clock_on_priority_change(p2, agent_mexico, p2_sla):
    p2_sla.on_priority_change = PriorityChange.KEEP
    p2_sla.save()
    slm.create_definition(name="P1 fast", priority=1, resolution_target_minutes=4 * 60)
    services.update_incident(p2, actor=agent_mexico, version=p2.version, impact=1)
    assert clock_of(p2).definition == p2_sla


def test_ola_clock_follows_the_group(
    frozen, open_mexico_incident, desk_mexico, l2_mexico, agent_mexico
):
    slm.create_definition(
        name="Desk OLA",
        kind=DefinitionKind.OLA,
        support_group=desk_mexico,
        resolution_target_minutes=120,
    )
    frozen.set(at("2026-09-14T08:00:00-06:00"))
    incident = open_mexico_incident(assignment_group=desk_mexico)
    ola = SLAClock.objects.get(incident=incident, metric=Metric.OLA)
    assert ola.support_group == desk_mexico and ola.state == ClockState.RUNNING
    frozen.set(at("2026-09-14T09:00:00-06:00"))
    services.assign(incident, actor=agent_mexico, group=l2_mexico)
    ola.refresh_from_db()
    assert ola.state == ClockState.ACHIEVED and ola.elapsed_business_seconds == 3600
    rows = slm.compliance(
        at("2026-09-01T00:00Z"),
        at("2026-10-01T00:00Z"),
        kind=DefinitionKind.OLA,
        group_by=["group"],
    )
    assert rows == [
        {"group": desk_mexico.pk, "total": 1, "met": 1, "breached": 0, "compliance": 1.0}
    ]


def test_definition_validation_and_permission(agent_mexico):
    with pytest.raises(ValidationFailed) as error:
        slm.create_definition(name="No target")
    assert error.value.field == "resolution_target_minutes"
    with pytest.raises(ValidationFailed) as error:
        slm.create_definition(name="Bad", resolution_target_minutes=5, warning_thresholds=[150])
    assert error.value.field == "warning_thresholds"
    with pytest.raises(ValidationFailed):
        slm.create_definition(name="Bad", resolution_target_minutes=5, pause_states=["nap"])
    with pytest.raises(PermissionDenied):
        slm.create_definition(name="X", resolution_target_minutes=5, actor=agent_mexico)


def test_a_definition_calendar_overrides_the_country(frozen, open_mexico_incident):
    from itsmo.organization.models import BusinessCalendar

    always = BusinessCalendar.objects.create(name="24x7", time_zone="UTC", is_24x7=True)
    slm.create_definition(name="24x7 any", resolution_target_minutes=60, calendar=always)
    frozen.set(at("2026-09-12T03:00:00+00:00"))  # Friday night in Mexico
    incident = open_mexico_incident()
    assert clock_of(incident).due_at == at("2026-09-12T04:00:00+00:00")


# -- the scan ------------------------------------------------------------------------------


def test_scan_warns_once_per_threshold_and_breaches_once(
    p2, frozen, mailoutbox, manager_mexico, django_capture_on_commit_callbacks
):
    mailoutbox.clear()
    frozen.set(at("2026-09-15T09:00:00-06:00"))  # 12 of 24 business hours: 50 %
    first = slm.scan_clocks(frozen.now)
    # the response clock (due Friday 18:00) breaches; resolution warns at 50 %
    assert first.breached == 1 and first.warned == 1
    subjects = sorted(m.subject for m in mailoutbox)
    assert len(subjects) == 2
    assert any("SLA breached" in s for s in subjects)
    assert any("50%" in s for s in subjects)
    assert all(m.to == [manager_mexico.email] for m in mailoutbox)
    again = slm.scan_clocks(frozen.now)  # a second run (or a restarted worker) sends nothing
    assert (again.breached, again.warned) == (0, 0) and len(mailoutbox) == 2
    frozen.set(at("2026-09-17T10:00:00-06:00"))  # 23 h: past 75 % and 90 % together
    late = slm.scan_clocks(frozen.now)
    assert late.warned == 2
    assert sorted(m.subject for m in mailoutbox[2:]) == [
        f"[{p2.number}] SLA warning: 75% of the target used",
        f"[{p2.number}] SLA warning: 90% of the target used",
    ]
    frozen.set(at("2026-09-17T11:00:01-06:00"))
    assert slm.scan_clocks(frozen.now).breached == 1
    assert slm.scan_clocks(frozen.now).breached == 0
    resolution = clock_of(p2)
    assert resolution.state == ClockState.BREACHED
    assert resolution.breached_at == at("2026-09-17T11:00:00-06:00")
    assert len(mailoutbox) == 5


def test_a_claimed_warning_is_not_sent_again_after_a_crash(p2, frozen, mailoutbox, monkeypatch):
    """The claim and the queued notices commit together: if queuing fails (the worker dies),
    the claim rolls back and the next scan sends; once committed, no scan claims it again."""
    frozen.set(at("2026-09-15T09:00:00-06:00"))
    real = slm._enqueue_notices

    def crash(kind, notices):
        if kind == "warning":
            raise RuntimeError("worker died")
        real(kind, notices)

    monkeypatch.setattr(slm, "_enqueue_notices", crash)
    with pytest.raises(RuntimeError):
        slm.scan_clocks(frozen.now)
    assert clock_of(p2).last_warned_threshold == 0
    monkeypatch.setattr(slm, "_enqueue_notices", real)
    mailoutbox.clear()
    assert slm.scan_clocks(frozen.now).warned == 1
    assert slm.scan_clocks(frozen.now).warned == 0
    assert [m.subject for m in mailoutbox] == [f"[{p2.number}] SLA warning: 50% of the target used"]
    assert clock_of(p2).last_warned_threshold == 50


def test_paused_clocks_neither_warn_nor_breach(p2, frozen, agent_mexico, mailoutbox):
    frozen.set(at("2026-09-14T08:00:00-06:00"))
    services.transition(p2, "on_hold", actor=agent_mexico, reason="awaiting_vendor")
    mailoutbox.clear()
    frozen.set(at("2026-09-30T08:00:00-06:00"))
    result = slm.scan_clocks(frozen.now)
    assert result.warned == 0
    assert clock_of(p2).state == ClockState.PAUSED


def test_compliance_by_priority_and_month(p2_met_and_missed):
    rows = slm.compliance(
        at("2026-09-01T00:00Z"),
        at("2026-10-01T00:00Z"),
        metric="resolution",
        group_by=["priority", "month"],
    )
    assert [(r["priority"], r["total"], r["met"], r["compliance"]) for r in rows] == [
        (2, 2, 1, 0.5)
    ]
    assert rows[0]["month"].month == 9
    assert slm.compliance(at("2026-10-01T00:00Z"), at("2026-11-01T00:00Z")) == []
    with pytest.raises(ValidationFailed):
        slm.compliance(at("2026-09-01T00:00Z"), at("2026-10-01T00:00Z"), group_by=["colour"])
