"""What an import remembers about each record it wrote, so that running it again is idempotent.

The imported records themselves live in their own apps (incidents, problems, changes, …) and
carry ``external_source`` / ``external_reference``. This table adds what only the importer
needs: a fingerprint of the source rows (unchanged rows are skipped without being parsed
further), the keys of the source events already written to the journal (a re-import appends
only the new ones: the journal is append-only) and the links the source has and Itsmo's
incident record does not (ServiceNow's ``rfc``, the change an incident relates to).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ImportedIncident(models.Model):
    source = models.CharField(_("source"), max_length=40)
    external_reference = models.CharField(_("external reference"), max_length=100)
    incident = models.OneToOneField(
        "incidents.Incident", on_delete=models.CASCADE, related_name="import_record"
    )
    #: The change the source says the incident relates to (ServiceNow ``rfc``).
    related_change = models.ForeignKey(
        "changes.Change",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="imported_related_incidents",
        verbose_name=_("related change"),
    )
    #: SHA-1 of the source rows of the record (and of the mapping version).
    fingerprint = models.CharField(max_length=40)
    #: Keys of the source events already journaled (``"<sys_mod_count>:<occurrence>"``).
    event_keys = models.JSONField(default=list, blank=True)
    imported_at = models.DateTimeField(_("imported"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("imported incident")
        verbose_name_plural = _("imported incidents")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_reference"], name="imported_incident_unique_reference"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_reference}"
