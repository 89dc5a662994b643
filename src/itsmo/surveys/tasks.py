"""Survey invitations, sent by the worker. Safe to run twice: a survey already sent (or
answered) is not sent again."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django_tasks import task


@task()
def send_invitation(survey_id: int) -> int:
    from . import services
    from .models import Survey

    survey = (
        Survey.objects.select_related("incident__caller")
        .filter(pk=survey_id, sent_at__isnull=True, answered_at__isnull=True)
        .first()
    )
    if survey is None:
        return 0
    caller = survey.incident.caller
    if not caller.email or not caller.is_active:
        return 0
    token = services.issue_token(survey)
    base_url = getattr(settings, "ITSMO_BASE_URL", "")
    link = base_url.rstrip("/") + reverse("surveys:answer", args=[token])
    with translation.override(caller.language or settings.LANGUAGE_CODE):
        text = render_to_string(
            "surveys/email/invitation.txt",
            {"incident": survey.incident, "link": link, "recipient": caller},
        )
    subject, _, body = text.strip().partition("\n")
    return send_mail(subject.strip(), body.strip() + "\n", None, [caller.email])
