"""Problem background jobs. Safe to run twice (detection updates what it proposed before)."""

from __future__ import annotations

from django_tasks import task


@task()
def detect_recurring_incidents() -> int:
    """Propose problem candidates from the incidents of the last 90 days."""
    from . import services

    return len(services.detect_candidates())
