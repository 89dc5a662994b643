"""Changes: the record that authorises, schedules and reviews a change to a service or CI."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from itsmo.core.models import TimeStampedModel


class Change(TimeStampedModel):
    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    external_source = models.CharField(_("external source"), max_length=40, blank=True)
    external_reference = models.CharField(_("external reference"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("change")
        verbose_name_plural = _("changes")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_source", "external_reference"],
                condition=~Q(external_reference=""),
                name="change_unique_external_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"
