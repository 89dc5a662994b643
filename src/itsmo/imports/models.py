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


class ServiceDeskContact(models.Model):
    """A service-desk interaction (call, mail) imported from another tool (BPIC 2014
    ``Detail Interaction``). Itsmo has no contact record of its own: this keeps the imported
    history, its link to the incident it created or joined, and first-call resolution."""

    source = models.CharField(_("source"), max_length=40)
    external_reference = models.CharField(_("external reference"), max_length=100)
    incident = models.ForeignKey(
        "incidents.Incident",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="imported_contacts",
        verbose_name=_("incident"),
    )
    #: The source names several incidents without listing them (``#MULTIVALUE``).
    has_several_incidents = models.BooleanField(_("several incidents"), default=False)
    ci = models.ForeignKey(
        "cmdb.CI",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="imported_contacts",
        verbose_name=_("configuration item"),
    )
    status = models.CharField(_("status"), max_length=40, blank=True)
    category = models.CharField(_("category"), max_length=100, blank=True)
    knowledge_reference = models.CharField(_("knowledge document"), max_length=40, blank=True)
    impact = models.PositiveSmallIntegerField(_("impact"), null=True, blank=True)
    urgency = models.PositiveSmallIntegerField(_("urgency"), null=True, blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closure_code = models.CharField(_("closure code"), max_length=100, blank=True)
    is_first_call_resolution = models.BooleanField(_("first-call resolution"), default=False)
    handle_seconds = models.PositiveIntegerField(_("handle time (s)"), null=True, blank=True)
    fingerprint = models.CharField(max_length=40)
    imported_at = models.DateTimeField(_("imported"), default=timezone.now)

    class Meta:
        verbose_name = _("service-desk contact")
        verbose_name_plural = _("service-desk contacts")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_reference"], name="imported_contact_unique_reference"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_reference}"


class ImportedChange(models.Model):
    """What a change import keeps that :class:`~itsmo.changes.models.Change` has no field
    for (the source's own type, risk wording, origin, requested date, downtime window,
    counters), and the fingerprint that makes a re-import idempotent."""

    source = models.CharField(_("source"), max_length=40)
    external_reference = models.CharField(_("external reference"), max_length=100)
    change = models.OneToOneField(
        "changes.Change", on_delete=models.CASCADE, related_name="import_record"
    )
    source_type = models.CharField(_("source change type"), max_length=100, blank=True)
    risk_assessment = models.CharField(_("source risk assessment"), max_length=100, blank=True)
    originated_from = models.CharField(_("originated from"), max_length=40, blank=True)
    requested_end_at = models.DateTimeField(_("requested end"), null=True, blank=True)
    downtime_start_at = models.DateTimeField(_("scheduled downtime start"), null=True, blank=True)
    downtime_end_at = models.DateTimeField(_("scheduled downtime end"), null=True, blank=True)
    related_interactions = models.PositiveIntegerField(_("related interactions"), default=0)
    related_incidents = models.PositiveIntegerField(_("related incidents"), default=0)
    #: Empty for a change created only because an incident named it (not in the change file).
    fingerprint = models.CharField(max_length=40, blank=True)
    imported_at = models.DateTimeField(_("imported"), default=timezone.now)

    class Meta:
        verbose_name = _("imported change")
        verbose_name_plural = _("imported changes")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_reference"], name="imported_change_unique_reference"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_reference}"
