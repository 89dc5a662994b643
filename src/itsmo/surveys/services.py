"""Satisfaction surveys: created when an incident is resolved, answered once.

``on_resolved`` is called by the incidents service inside the resolving transaction and only
prepares the survey. The invitation is the resolution e-mail itself (the
``communications`` outbox, with its retries and deduplication): when that mail is rendered
for sending, :func:`invitation_context` issues a fresh single-use token for the caller and
puts the link in it. Only the token's SHA-256 is stored, in the survey, never in the outbox.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from itsmo.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed

from .models import RATING_MAX, RATING_MIN, Survey


class AlreadyAnswered(DomainError):
    status = 409
    title = "Already answered"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    raw = secrets.token_urlsafe(32)
    return raw, hash_token(raw)


def on_resolved(incident) -> Survey | None:
    """The survey for the caller of ``incident`` (just resolved). A survey already answered
    stays as it is; an unanswered one gets a new, unguessable hash, so the link of an
    earlier resolution stops working and the new resolution e-mail carries a fresh one."""
    _raw, digest = _new_token()
    survey, created = Survey.objects.get_or_create(
        incident_id=incident.pk, defaults={"token_hash": digest}
    )
    if survey.is_answered:
        return survey
    if not created:
        Survey.objects.filter(pk=survey.pk).update(token_hash=digest, sent_at=None)
    return survey


def invitation_context(notification, context: dict) -> dict:
    """Render hook of the ``resolution`` e-mail (registered in ``apps.py``): for the caller
    of a still resolved incident with an unanswered survey, ``survey_url`` is a link with a
    token issued now (the previous link stops working). Others get no link."""
    from itsmo.incidents.models import Status

    incident = context.get("incident")
    if incident is None or not notification.recipient_id:
        return {}
    if notification.recipient_id != incident.caller_id:
        return {}
    if incident.status not in (Status.RESOLVED, Status.CLOSED):
        return {}  # reopened before the mail went out: the next resolution brings the link
    survey = Survey.objects.filter(incident_id=incident.pk, answered_at__isnull=True).first()
    if survey is None:
        return {}
    token = issue_token(survey)
    base_url = getattr(settings, "ITSMO_BASE_URL", "").rstrip("/")
    return {"survey_url": base_url + reverse("surveys:answer", args=[token])}


def issue_token(survey: Survey) -> str:
    """A fresh single-use token for ``survey`` (the previous one stops working)."""
    raw, digest = _new_token()
    Survey.objects.filter(pk=survey.pk).update(token_hash=digest, sent_at=timezone.now())
    survey.token_hash = digest
    return raw


def get_by_token(raw: str) -> Survey:
    survey = (
        Survey.objects.select_related("incident", "incident__caller", "incident__service")
        .filter(token_hash=hash_token(raw or ""))
        .first()
    )
    if survey is None:
        raise NotFound("no survey for this link")
    return survey


def check_rating(rating) -> int:
    if isinstance(rating, bool) or not isinstance(rating, int):
        raise ValidationFailed("rating must be a whole number from 1 to 5", field="rating")
    if not RATING_MIN <= rating <= RATING_MAX:
        raise ValidationFailed("rating must be from 1 to 5", field="rating")
    return rating


def _answer(survey: Survey, rating, comment: str) -> Survey:
    rating = check_rating(rating)
    comment = (comment or "").strip()
    if len(comment) > 5000:
        raise ValidationFailed("comment is longer than 5000 characters", field="comment")
    now = timezone.now()
    # Single use: only the first answer finds the row still unanswered.
    updated = Survey.objects.filter(pk=survey.pk, answered_at__isnull=True).update(
        answered_at=now, rating=rating, comment=comment
    )
    if not updated:
        raise AlreadyAnswered("this survey has already been answered")
    survey.answered_at, survey.rating, survey.comment = now, rating, comment
    return survey


def answer(token: str, rating, comment: str = "") -> Survey:
    """Answer with the token of the e-mailed link (no sign-in needed)."""
    return _answer(get_by_token(token), rating, comment)


def answer_as_caller(survey: Survey, *, actor, rating, comment: str = "") -> Survey:
    """Answer from the portal: only the caller of the incident may."""
    if actor is None or survey.incident.caller_id != actor.pk:
        raise PermissionDenied("only the caller may answer this survey")
    return _answer(survey, rating, comment)


# -- reads ------------------------------------------------------------------------------------


def pending_for(user):
    """Unanswered surveys of incidents ``user`` reported."""
    return (
        Survey.objects.filter(incident__caller=user, answered_at__isnull=True)
        .select_related("incident")
        .order_by("-created_at")
    )


def for_incident(incident) -> Survey | None:
    return Survey.objects.filter(incident_id=incident.pk).first()
