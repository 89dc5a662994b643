"""SLA background jobs. The scan is safe to run twice and in parallel (it claims rows)."""

from __future__ import annotations

from django_tasks import task


@task()
def scan_sla_clocks() -> dict:
    """Mark breached clocks and send threshold warnings (see ``services.scan_clocks``)."""
    from . import services

    result = services.scan_clocks()
    return {"breached": result.breached, "warned": result.warned}
