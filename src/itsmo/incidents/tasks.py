"""Incident background jobs. Each is safe to run twice (closing skips what is closed; a
reminder claims its incident with a conditional ``UPDATE``)."""

from __future__ import annotations

from django_tasks import task


@task()
def close_resolved_incidents() -> int:
    """Close incidents resolved more than ``ITSMO_INCIDENT_AUTO_CLOSE_DAYS`` days ago."""
    from . import services

    return services.close_resolved_older_than(services.auto_close_days())


@task()
def remind_major_updates() -> int:
    """Remind coordinators of major incidents whose stakeholder update is overdue."""
    from . import services

    return services.remind_overdue_major_updates()
