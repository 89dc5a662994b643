"""SLA and OLA definitions, and the clocks they attach to records.

A definition says what it applies to (record type, service, priority, country, region,
business unit; blank = any), its targets in business minutes, the calendar (blank = the
record country's), which record states pause it, and what a priority change does.

Each matching definition attaches one :class:`SLAClock` per target (response, resolution)
or, for an OLA, one clock per stay with the support group. Clocks reference the incident
with a real foreign key (fast joins for queues and compliance); other record types get
their own nullable foreign key when they arrive.

The clock's numbers are a cache of :func:`itsmo.slm.clock.read_clock` (the pure function of
calendar, start, pauses, target, now), refreshed by ``slm.services`` on every state change
of the record and by the periodic scan.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itsmo.core.models import TimeStampedModel


def default_pause_states() -> list[str]:
    return ["on_hold"]


def default_warning_thresholds() -> list[int]:
    return [50, 75, 90]


class DefinitionKind(models.TextChoices):
    SLA = "sla", _("SLA (with the customer)")
    OLA = "ola", _("OLA (with a support group)")


class RecordType(models.TextChoices):
    INCIDENT = "incident", _("Incident")


class PriorityChange(models.TextChoices):
    REBASELINE = "rebaseline", _("Re-baseline (targets of the new priority from the start)")
    KEEP = "keep", _("Keep the running clocks")


class SLADefinition(TimeStampedModel):
    name = models.CharField(_("name"), max_length=150, unique=True)
    kind = models.CharField(
        _("kind"), max_length=10, choices=DefinitionKind.choices, default=DefinitionKind.SLA
    )
    record_type = models.CharField(
        _("record type"), max_length=30, choices=RecordType.choices, default=RecordType.INCIDENT
    )
    description = models.TextField(_("description"), blank=True)
    # -- applies to (blank = any) --
    service = models.ForeignKey(
        "catalog.Service",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sla_definitions",
        verbose_name=_("service"),
    )
    priority = models.PositiveSmallIntegerField(_("priority"), null=True, blank=True)
    country = models.ForeignKey(
        "organization.Country",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sla_definitions",
        verbose_name=_("country"),
    )
    region = models.ForeignKey(
        "organization.Region",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sla_definitions",
        verbose_name=_("region"),
    )
    business_unit = models.ForeignKey(
        "organization.BusinessUnit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sla_definitions",
        verbose_name=_("customer business unit"),
    )
    #: OLA: the group the time is measured for (blank = whichever group holds the record).
    support_group = models.ForeignKey(
        "accounts.SupportGroup",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ola_definitions",
        verbose_name=_("support group"),
    )
    # -- targets --
    response_target_minutes = models.PositiveIntegerField(
        _("response target (business minutes)"), null=True, blank=True
    )
    resolution_target_minutes = models.PositiveIntegerField(
        _("resolution target (business minutes)"), null=True, blank=True
    )
    calendar = models.ForeignKey(
        "organization.BusinessCalendar",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sla_definitions",
        verbose_name=_("calendar"),
        help_text=_("Blank: the business calendar of the record's country."),
    )
    pause_states = models.JSONField(_("pause in states"), default=default_pause_states, blank=True)
    on_priority_change = models.CharField(
        _("on priority change"),
        max_length=20,
        choices=PriorityChange.choices,
        default=PriorityChange.REBASELINE,
    )
    warning_thresholds = models.JSONField(
        _("warning thresholds (%)"), default=default_warning_thresholds, blank=True
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("SLA definition")
        verbose_name_plural = _("SLA definitions")
        indexes = [models.Index(fields=["record_type", "is_active"], name="sla_def_active")]
        constraints = [
            models.CheckConstraint(
                condition=Q(priority__isnull=True) | Q(priority__gte=1, priority__lte=5),
                name="sla_definition_priority_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def api_snapshot(self) -> dict:
        return {"id": self.pk, "name": self.name, "version": self.version}


class Metric(models.TextChoices):
    RESPONSE = "response", _("Response")
    RESOLUTION = "resolution", _("Resolution")
    OLA = "ola", _("Time with the group")


class ClockState(models.TextChoices):
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    ACHIEVED = "achieved", _("Achieved")
    BREACHED = "breached", _("Breached")
    CANCELLED = "cancelled", _("Cancelled")


#: States in which a clock still moves (or may move again).
ACTIVE_CLOCK_STATES = frozenset({ClockState.RUNNING, ClockState.PAUSED})


class SLAClock(models.Model):
    definition = models.ForeignKey(SLADefinition, on_delete=models.PROTECT, related_name="clocks")
    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="sla_clocks"
    )
    metric = models.CharField(_("metric"), max_length=20, choices=Metric.choices)
    #: OLA clocks: the group whose time this is.
    support_group = models.ForeignKey(
        "accounts.SupportGroup", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    target_seconds = models.PositiveIntegerField(_("target (business seconds)"))
    started_at = models.DateTimeField(_("started"))
    stopped_at = models.DateTimeField(_("stopped"), null=True, blank=True)
    #: Pause intervals as ``[[start ISO, end ISO or null], …]``; an open one means paused.
    pauses = models.JSONField(default=list, blank=True)
    elapsed_business_seconds = models.FloatField(_("elapsed (business seconds)"), default=0)
    paused_seconds = models.FloatField(_("paused (business seconds)"), default=0)
    state = models.CharField(
        _("state"), max_length=20, choices=ClockState.choices, default=ClockState.RUNNING
    )
    #: When the target is (or was) reached; while paused, as if resumed at the last update.
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    #: Warning thresholds in %, copied from the definition when the clock starts.
    warning_thresholds = models.JSONField(default=default_warning_thresholds, blank=True)
    #: The highest threshold already claimed for a warning (exactly-once marker).
    last_warned_threshold = models.PositiveSmallIntegerField(default=0)
    #: The next threshold to warn about and when it is reached (null: none left or paused).
    next_warning_threshold = models.PositiveSmallIntegerField(null=True, blank=True)
    next_warning_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(_("breached"), null=True, blank=True)
    #: Set when the scan has claimed the breach notice (exactly-once marker).
    breach_notified_at = models.DateTimeField(null=True, blank=True)
    #: The scan that claimed a warning or breach last (to find the rows it claimed).
    claim_token = models.CharField(max_length=36, blank=True, db_index=True)
    is_imported = models.BooleanField(_("imported"), default=False)
    #: Importers: the outcome the source system recorded (met/breached), kept as is.
    imported_outcome = models.CharField(_("imported outcome"), max_length=20, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["incident_id", "metric", "id"]
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        indexes = [
            models.Index(fields=["state", "due_at"], name="sla_clock_state_due"),
            models.Index(fields=["state", "next_warning_at"], name="sla_clock_state_warn"),
            models.Index(fields=["incident", "state"], name="sla_clock_incident_state"),
            models.Index(fields=["definition", "state"], name="sla_clock_definition_state"),
            models.Index(fields=["started_at"], name="sla_clock_started"),
        ]

    def __str__(self) -> str:
        return f"{self.definition} {self.get_metric_display()} ({self.state})"

    @property
    def is_met(self) -> bool | None:
        if self.state == ClockState.ACHIEVED:
            return True
        if self.state == ClockState.BREACHED:
            return False
        return None

    @property
    def percentage(self) -> float:
        if not self.target_seconds:
            return 0.0
        return 100.0 * self.elapsed_business_seconds / self.target_seconds
