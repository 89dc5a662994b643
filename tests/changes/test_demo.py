"""The demo changes (scale small): every type and state, CAB approvals, month-end
blackouts, failed changes with the incidents they caused, releases."""

from __future__ import annotations

import pytest
from django.db.models import Count

from itsmo.changes.models import (
    UNSUCCESSFUL,
    ApprovalRequest,
    BlackoutWindow,
    Change,
    ChangeType,
    Release,
    Status,
)
from itsmo.core import demo


@pytest.fixture(autouse=True)
def tasks_at_once(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def test_demo_changes(db):
    demo.run(scale="small", password="demo-password-1", only=["changes"])

    changes = Change.objects.all()
    assert changes.count() >= 120
    assert set(changes.values_list("type", flat=True)) == set(ChangeType.values)
    assert changes.values("country").distinct().count() >= 8
    states = set(changes.values_list("status", flat=True))
    assert {Status.CLOSED, Status.SCHEDULED, Status.AUTHORISE, Status.CANCELLED} <= states
    assert ApprovalRequest.objects.filter(name="CAB", state="approved").exists()
    assert ApprovalRequest.objects.filter(name="CAB", state="requested").exists()
    assert BlackoutWindow.objects.filter(name__startswith="Month-end close MX").count() >= 11
    failed = changes.filter(close_code__in=UNSUCCESSFUL).annotate(n=Count("caused_incidents"))
    assert failed.filter(n__gt=0).count() >= 4
    closed_normal = changes.filter(status=Status.CLOSED).exclude(type=ChangeType.STANDARD)
    assert not closed_normal.filter(review_notes="").exists()  # every PIR written
    assert Release.objects.count() == 2
    assert Release.objects.filter(deployments__isnull=False).distinct().count() == 2
