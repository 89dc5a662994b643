"""Communications background jobs; each is safe to run twice (a claim per notification,
Message-ID idempotency for inbound mail)."""

from __future__ import annotations

from django_tasks import task


@task()
def deliver_notifications(ids: list[int]) -> int:
    """Send these notifications now (enqueued when they are written)."""
    from . import services

    return services.deliver(ids)


@task()
def send_due_notifications() -> int:
    """Retries whose time has come and anything a crashed worker left queued."""
    from . import services

    return services.send_due()


@task()
def poll_mailbox() -> int:
    """Ingest the unseen messages of the IMAP mailbox (``ITSMO_IMAP_*``)."""
    from . import imap

    return imap.poll()
