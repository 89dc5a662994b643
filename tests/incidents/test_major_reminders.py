"""Major incidents: the coordinator is reminded when a stakeholder update is overdue, once per
due instant (a conditional ``UPDATE`` claims it; a crash rolls the claim back); a posted
update moves the next one forward. And hierarchical escalation: the group manager hears of
SLA warnings and breaches."""

from __future__ import annotations

import datetime as dt

import pytest

from itsmo.communications.models import Notification
from itsmo.core import schedule
from itsmo.incidents import notify, services
from itsmo.incidents.models import Incident

pytestmark = pytest.mark.django_db

REMINDER = "major_update_reminder"


@pytest.fixture
def coordinator(manager_mexico):
    manager_mexico.time_zone = "America/Mexico_City"
    manager_mexico.save(update_fields=["time_zone"])
    return manager_mexico


@pytest.fixture
def major(frozen, open_mexico_incident, desk_mexico, agent_mexico, coordinator):
    """A major incident opened at the frozen instant: updates every 30 minutes."""
    incident = open_mexico_incident(short_description="ERP down", assignment_group=desk_mexico)
    services.update_incident(
        incident,
        actor=agent_mexico,
        version=incident.version,
        is_major=True,
        major_update_interval_minutes=30,
        major_incident_coordinator=coordinator,
    )
    assert incident.next_major_update_at == frozen.now + dt.timedelta(minutes=30)
    return incident


def _next_at(incident):
    return Incident.objects.values_list("next_major_update_at", flat=True).get(pk=incident.pk)


def _reminders():
    return list(Notification.objects.filter(event=REMINDER).order_by("pk"))


def test_nothing_before_the_due_instant(major, frozen):
    frozen.advance(minutes=29)
    assert services.remind_overdue_major_updates() == 0
    assert _reminders() == []


def test_once_per_due_instant_then_again_at_the_next_slot(major, frozen, coordinator, mailoutbox):
    due = major.next_major_update_at
    frozen.set(due + dt.timedelta(minutes=1))
    mailoutbox.clear()
    assert services.remind_overdue_major_updates() == 1
    assert services.remind_overdue_major_updates() == 0  # a re-run at the same time
    frozen.advance(minutes=10)
    assert services.remind_overdue_major_updates() == 0  # still within the next slot
    assert _next_at(major) == due + dt.timedelta(minutes=30)

    (row,) = _reminders()
    assert row.recipient == coordinator and row.status == "sent"
    assert row.dedup_key.startswith(f"major-update-reminder:{major.pk}:{due.isoformat()}")
    (mail,) = mailoutbox
    assert mail.to == [coordinator.email]
    assert mail.subject == f"[{major.number}] stakeholder update overdue: ERP down"
    assert "was due at 2026-09-11 17:30 CST" in mail.body  # the coordinator's time zone

    frozen.set(due + dt.timedelta(minutes=30))  # the next slot, still no update
    assert services.remind_overdue_major_updates() == 1
    assert len(_reminders()) == 2 and len(mailoutbox) == 2


def test_a_long_outage_of_the_worker_gives_one_reminder_not_one_per_missed_slot(major, frozen):
    due = major.next_major_update_at
    frozen.set(due + dt.timedelta(minutes=95))
    assert services.remind_overdue_major_updates() == 1
    assert services.remind_overdue_major_updates() == 0
    assert _next_at(major) == due + dt.timedelta(minutes=120)  # the first slot after now


def test_a_crash_after_the_claim_rolls_it_back_and_the_rerun_reminds_once(
    major, frozen, monkeypatch
):
    due = major.next_major_update_at
    frozen.set(due + dt.timedelta(minutes=1))
    real = notify.major_update_reminder

    def crash(*args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(notify, "major_update_reminder", crash)
    with pytest.raises(RuntimeError):
        services.remind_overdue_major_updates()
    assert _next_at(major) == due and _reminders() == []  # still due, nothing sent

    monkeypatch.setattr(notify, "major_update_reminder", real)
    assert services.remind_overdue_major_updates() == 1
    assert services.remind_overdue_major_updates() == 0
    assert len(_reminders()) == 1


def test_a_claim_lost_to_another_worker_sends_nothing(major, frozen, monkeypatch):
    """Worker A has read the due incident; before A claims it, worker B runs a whole scan.
    A's conditional UPDATE then finds the due instant moved and A stays silent."""
    frozen.set(major.next_major_update_at + dt.timedelta(minutes=1))
    real_timedelta = services.timedelta
    other_worker = []

    def b_runs_between_a_read_and_a_claim(*args, **kwargs):
        monkeypatch.setattr(services, "timedelta", real_timedelta)
        other_worker.append(services.remind_overdue_major_updates())
        return real_timedelta(*args, **kwargs)

    # the first thing A does with a row it read is to compute the interval
    monkeypatch.setattr(services, "timedelta", b_runs_between_a_read_and_a_claim)
    assert services.remind_overdue_major_updates() == 0
    assert other_worker == [1] and len(_reminders()) == 1


def test_a_public_update_moves_the_next_one_forward_and_cancels_the_reminder(
    major, frozen, agent_mexico
):
    due = major.next_major_update_at
    frozen.set(due - dt.timedelta(minutes=5))
    services.post_major_update(major, actor=agent_mexico, body="Vendor engaged")
    assert _next_at(major) == frozen.now + dt.timedelta(minutes=30) > due
    frozen.set(due + dt.timedelta(minutes=1))
    assert services.remind_overdue_major_updates() == 0
    assert _reminders() == []
    frozen.set(_next_at(major))
    assert services.remind_overdue_major_updates() == 1


def test_without_a_coordinator_the_assignee_and_the_group_manager_are_reminded(
    frozen, open_mexico_incident, desk_mexico_managed, agent_mexico, manager_mexico
):
    incident = open_mexico_incident(
        assignment_group=desk_mexico_managed, assignee=agent_mexico, is_major=True
    )
    services.update_incident(
        incident,
        actor=None,  # a rule or an import: nobody becomes coordinator
        version=incident.version,
        major_update_interval_minutes=15,
    )
    frozen.advance(minutes=16)
    assert services.remind_overdue_major_updates() == 1
    assert {r.recipient for r in _reminders()} == {agent_mexico, manager_mexico}


def test_a_resolved_major_incident_gets_no_reminder(major, frozen, agent_mexico):
    services.resolve(major, actor=agent_mexico, code="fixed", notes="Restored")
    frozen.advance(hours=2)
    assert services.remind_overdue_major_updates() == 0
    assert _reminders() == []


def test_the_periodic_job_is_scheduled_and_runs_the_reminders(major, frozen):
    (job,) = [j for j in schedule.SCHEDULE if j.name == "incidents.remind_major_updates"]
    assert job.interval == dt.timedelta(minutes=1)
    frozen.set(major.next_major_update_at + dt.timedelta(seconds=1))
    assert schedule.enqueue_due([job], now=frozen.now) == [job.name]  # immediate backend
    assert len(_reminders()) == 1
    assert schedule.enqueue_due([job], now=frozen.now) == []  # not due again yet


# -- hierarchical escalation ------------------------------------------------------------------


def test_the_group_manager_hears_of_sla_warnings_and_breaches_with_the_assignee(
    p2_sla, open_mexico_incident, frozen, desk_mexico_managed, agent_mexico, manager_mexico
):
    from itsmo.slm import services as slm

    incident = open_mexico_incident(
        impact=2, urgency=1, assignment_group=desk_mexico_managed, assignee=agent_mexico
    )
    frozen.set(frozen.now + dt.timedelta(days=5))
    slm.scan_clocks(frozen.now)
    sla_mails = Notification.objects.filter(event__startswith="sla_", reference=incident.number)
    warnings = sla_mails.filter(event="sla_warning")
    assert {n.recipient for n in warnings} == {agent_mexico, manager_mexico}
    assert sorted(n.context["threshold"] for n in warnings.filter(recipient=manager_mexico)) == [
        50,
        75,
    ]
    assert {n.recipient for n in sla_mails.filter(event="sla_breach")} == {
        agent_mexico,
        manager_mexico,
    }
