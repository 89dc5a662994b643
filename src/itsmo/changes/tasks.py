"""Change background jobs. Safe to run twice: a request already decided is skipped."""

from __future__ import annotations

from django_tasks import task


@task()
def expire_overdue_approvals() -> int:
    """Approval requests past their deadline count as rejected (see ``services``)."""
    from . import services

    return services.expire_overdue_approvals()
