"""Satisfaction surveys: one per incident, sent to the caller on resolution.

The link in the e-mail carries a single-use token; only its SHA-256 is stored, so a copy of
the database does not let anyone answer. The caller signed in to the portal answers without
the token (the portal knows who they are).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

RATING_MIN = 1
RATING_MAX = 5


class Survey(models.Model):
    incident = models.OneToOneField(
        "incidents.Incident",
        on_delete=models.CASCADE,
        related_name="survey",
        verbose_name=_("incident"),
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        indexes = [models.Index(fields=["answered_at"], name="survey_answered")]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="survey_rating_range",
            ),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True) | Q(rating__isnull=False),
                name="survey_answer_has_rating",
            ),
        ]

    def __str__(self) -> str:
        return f"{_('Survey')} {self.incident_id}"

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None
