"""Incidents: the record, its categories, priority matrix, attachments and lifecycle table.

Every write goes through :mod:`itsmo.incidents.services`; this module holds the data, its
invariants, the transition table and the ``visible_to`` rule.

Scope: staff see the incidents of the countries (and regions) their scope allows, like
every operational record. End users (no staff role) see only the incidents where they are
the caller or the affected user, whatever their country.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itsmo.core.models import TimeStampedModel
from itsmo.core.scoping import ScopedQuerySet
from itsmo.core.states import StateMachine, Transition


class Channel(models.TextChoices):
    PORTAL = "portal", _("Portal")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    API = "api", _("API")
    EVENT = "event", _("Event")
    WALK_IN = "walk_in", _("Walk-in")


class Status(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    ON_HOLD = "on_hold", _("On hold")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


#: States in which an incident is still being worked.
OPEN_STATES = frozenset({Status.NEW, Status.IN_PROGRESS, Status.ON_HOLD})
#: States after which nothing changes any more.
FINAL_STATES = frozenset({Status.CLOSED, Status.CANCELLED})


class OnHoldReason(models.TextChoices):
    AWAITING_CALLER = "awaiting_caller", _("Awaiting caller")
    AWAITING_VENDOR = "awaiting_vendor", _("Awaiting vendor")
    AWAITING_CHANGE = "awaiting_change", _("Awaiting change")


class ResolutionCode(models.TextChoices):
    FIXED = "fixed", _("Fixed (permanent)")
    WORKAROUND = "workaround", _("Workaround provided")
    USER_EDUCATION = "user_education", _("Advice / user education")
    NO_FAULT_FOUND = "no_fault_found", _("No fault found")
    RESOLVED_BY_CHANGE = "resolved_by_change", _("Resolved by a change")
    RESOLVED_BY_VENDOR = "resolved_by_vendor", _("Resolved by the vendor")
    DUPLICATE = "duplicate", _("Duplicate")
    RESOLVED_BY_PARENT = "resolved_by_parent", _("Resolved with the parent incident")


class Impact(models.IntegerChoices):
    HIGH = 1, _("1 - High")
    MEDIUM = 2, _("2 - Medium")
    LOW = 3, _("3 - Low")


class Urgency(models.IntegerChoices):
    HIGH = 1, _("1 - High")
    MEDIUM = 2, _("2 - Medium")
    LOW = 3, _("3 - Low")


class Priority(models.IntegerChoices):
    P1 = 1, _("P1 - Critical")
    P2 = 2, _("P2 - High")
    P3 = 3, _("P3 - Moderate")
    P4 = 4, _("P4 - Low")
    P5 = 5, _("P5 - Planning")


class Category(TimeStampedModel):
    """A node of the configurable category tree; a child is a subcategory of its parent."""

    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent"),
    )
    name = models.CharField(_("name"), max_length=100)
    service = models.ForeignKey(
        "catalog.Service",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incident_categories",
        verbose_name=_("service"),
        help_text=_("Offer this category for incidents on this service only (blank: any)."),
    )
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("incident category")
        verbose_name_plural = _("incident categories")
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"], name="incident_category_unique_name_in_parent"
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(parent__isnull=True),
                name="incident_category_unique_root_name",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.parent} / {self.name}" if self.parent_id else self.name


class PriorityMatrixCell(models.Model):
    """An override of one cell of the default impact x urgency matrix (see ``priority.py``)."""

    impact = models.PositiveSmallIntegerField(_("impact"), choices=Impact.choices)
    urgency = models.PositiveSmallIntegerField(_("urgency"), choices=Urgency.choices)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)

    class Meta:
        ordering = ["impact", "urgency"]
        verbose_name = _("priority matrix cell")
        verbose_name_plural = _("priority matrix")
        constraints = [
            models.UniqueConstraint(fields=["impact", "urgency"], name="priority_matrix_unique"),
            models.CheckConstraint(
                condition=Q(impact__gte=1, impact__lte=3, urgency__gte=1, urgency__lte=3),
                name="priority_matrix_levels",
            ),
            models.CheckConstraint(
                condition=Q(priority__gte=1, priority__lte=5), name="priority_matrix_priority"
            ),
        ]

    def __str__(self) -> str:
        return f"I{self.impact} U{self.urgency} → P{self.priority}"


class IncidentQuerySet(ScopedQuerySet):
    def visible_to(self, user) -> IncidentQuerySet:
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if not user.is_staff_member:
            return self.filter(Q(caller=user) | Q(affected_user=user))
        return super().visible_to(user)

    def open(self) -> IncidentQuerySet:
        return self.filter(status__in=OPEN_STATES)


IncidentManager = models.Manager.from_queryset(IncidentQuerySet)


class Incident(TimeStampedModel):
    """An unplanned interruption or degradation of a service."""

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    caller = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="incidents_called",
        verbose_name=_("caller"),
    )
    affected_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents_affecting",
        verbose_name=_("affected user"),
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("opened by"),
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    short_description = models.CharField(_("short description"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents",
        verbose_name=_("category"),
    )
    subcategory = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents_sub",
        verbose_name=_("subcategory"),
    )
    service = models.ForeignKey(
        "catalog.Service",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents",
        verbose_name=_("service"),
    )
    ci = models.ForeignKey(
        "cmdb.CI",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents",
        verbose_name=_("configuration item"),
    )
    country = models.ForeignKey(
        "organization.Country",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents",
        verbose_name=_("country"),
    )
    #: Derived from the country by the service; stored for scoping and reporting.
    region = models.ForeignKey(
        "organization.Region",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents",
        verbose_name=_("region"),
    )
    site = models.ForeignKey(
        "organization.Site",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents",
        verbose_name=_("site"),
    )
    business_unit = models.ForeignKey(
        "organization.BusinessUnit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents",
        verbose_name=_("business unit"),
    )
    impact = models.PositiveSmallIntegerField(
        _("impact"), choices=Impact.choices, default=Impact.LOW
    )
    urgency = models.PositiveSmallIntegerField(
        _("urgency"), choices=Urgency.choices, default=Urgency.LOW
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.P5
    )
    status = models.CharField(_("state"), max_length=20, choices=Status.choices, default=Status.NEW)
    on_hold_reason = models.CharField(
        _("on hold reason"), max_length=30, choices=OnHoldReason.choices, blank=True
    )
    assignment_group = models.ForeignKey(
        "accounts.SupportGroup",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents",
        verbose_name=_("assignment group"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents_assigned",
        verbose_name=_("assignee"),
    )
    #: The tier of the assignment group; follows the group on every reassignment.
    tier = models.CharField(_("tier"), max_length=10, blank=True)
    reassignment_count = models.PositiveIntegerField(_("reassignments"), default=0)
    reopen_count = models.PositiveIntegerField(_("reopened"), default=0)
    is_first_contact_resolution = models.BooleanField(_("first-contact resolution"), default=False)
    resolution_code = models.CharField(
        _("resolution code"), max_length=30, choices=ResolutionCode.choices, blank=True
    )
    resolution_notes = models.TextField(_("resolution notes"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    caused_by_change = models.ForeignKey(
        "changes.Change",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="caused_incidents",
        verbose_name=_("caused by change"),
    )
    problem = models.ForeignKey(
        "problems.Problem",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incidents",
        verbose_name=_("related problem"),
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent incident"),
    )
    watchers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="watched_incidents"
    )
    is_major = models.BooleanField(_("major incident"), default=False)
    major_incident_coordinator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="coordinated_incidents",
        verbose_name=_("major incident coordinator"),
    )
    #: How often stakeholders get a public update while a major incident is open.
    major_update_interval_minutes = models.PositiveIntegerField(
        _("stakeholder update every (minutes)"), null=True, blank=True
    )
    next_major_update_at = models.DateTimeField(_("next stakeholder update"), null=True, blank=True)
    post_incident_review = models.TextField(_("post-incident review"), blank=True)
    post_incident_review_url = models.URLField(_("post-incident review link"), blank=True)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    responded_at = models.DateTimeField(_("responded"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    #: Where an imported incident came from ("servicenow", "legacy-mx") and its id there.
    external_source = models.CharField(_("external source"), max_length=40, blank=True)
    external_reference = models.CharField(_("external reference"), max_length=100, blank=True)
    #: API intake: the ``Idempotency-Key`` header, unique per opening user.
    idempotency_key = models.CharField(max_length=200, blank=True, editable=False)

    scope_country_field = "country"
    scope_region_field = "region"
    objects = IncidentManager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        indexes = [
            models.Index(
                fields=["assignment_group", "status", "priority", "opened_at"],
                name="incident_queue",
            ),
            # The group queue: open incidents of a group by priority then age (first page).
            models.Index(
                fields=["assignment_group", "priority", "opened_at", "id"],
                condition=Q(status__in=sorted(OPEN_STATES)),
                name="incident_open_queue",
            ),
            models.Index(fields=["assignee", "status"], name="incident_assignee_status"),
            models.Index(fields=["status", "priority", "opened_at"], name="incident_open_prio"),
            models.Index(fields=["status", "resolved_at"], name="incident_status_resolved"),
            models.Index(fields=["country", "opened_at"], name="incident_country_opened"),
            models.Index(fields=["region", "opened_at"], name="incident_region_opened"),
            models.Index(fields=["service", "opened_at"], name="incident_service_opened"),
            models.Index(fields=["opened_at"], name="incident_opened"),
            models.Index(fields=["resolved_at"], name="incident_resolved"),
            models.Index(fields=["caller"], name="incident_caller"),
            models.Index(fields=["ci", "opened_at"], name="incident_ci_opened"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(impact__gte=1, impact__lte=3), name="incident_impact_range"
            ),
            models.CheckConstraint(
                condition=Q(urgency__gte=1, urgency__lte=3), name="incident_urgency_range"
            ),
            models.CheckConstraint(
                condition=Q(priority__gte=1, priority__lte=5), name="incident_priority_range"
            ),
            models.UniqueConstraint(
                fields=["external_source", "external_reference"],
                condition=~Q(external_reference=""),
                name="incident_unique_external_reference",
            ),
            models.UniqueConstraint(
                fields=["opened_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="incident_unique_idempotency_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.short_description}"

    @property
    def priority_label(self) -> str:
        return f"P{self.priority}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    def can_reopen(self) -> bool:
        return self.status == Status.RESOLVED

    def api_snapshot(self) -> dict:
        """What a 409 answer shows of the current record."""
        return {
            "number": self.number,
            "state": self.status,
            "priority": self.priority,
            "impact": self.impact,
            "urgency": self.urgency,
            "short_description": self.short_description,
            "assignment_group": self.assignment_group.code if self.assignment_group_id else None,
            "assignee": self.assignee.username if self.assignee_id else None,
            "version": self.version,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


# -- lifecycle ------------------------------------------------------------------------------


def _needs_resolution(incident: Incident, **context) -> str | None:
    if not incident.resolution_code:
        return str(_("a resolution code is required to resolve"))
    if not (incident.resolution_notes or "").strip():
        return str(_("resolution notes are required to resolve"))
    return None


def _needs_hold_reason(incident: Incident, **context) -> str | None:
    if incident.on_hold_reason not in OnHoldReason.values:
        return str(_("a reason (awaiting caller, vendor or change) is required to put on hold"))
    return None


LIFECYCLE = StateMachine(
    "status",
    [
        Transition(Status.NEW, Status.IN_PROGRESS, label=_("Start work")),
        Transition(
            (Status.NEW, Status.IN_PROGRESS),
            Status.ON_HOLD,
            guard=_needs_hold_reason,
            label=_("Put on hold"),
        ),
        Transition(Status.ON_HOLD, Status.IN_PROGRESS, label=_("Resume")),
        Transition(
            (Status.NEW, Status.IN_PROGRESS, Status.ON_HOLD),
            Status.RESOLVED,
            guard=_needs_resolution,
            label=_("Resolve"),
        ),
        Transition(Status.RESOLVED, Status.IN_PROGRESS, label=_("Reopen")),
        Transition(Status.RESOLVED, Status.CLOSED, label=_("Close")),
        Transition(
            (Status.NEW, Status.IN_PROGRESS, Status.ON_HOLD),
            Status.CANCELLED,
            label=_("Cancel"),
        ),
    ],
)


def _attachment_path(instance: Attachment, filename: str) -> str:
    now = timezone.now()
    return f"incidents/{now:%Y/%m}/{instance.incident.number}/{filename}"


class Attachment(models.Model):
    """A file attached to an incident, stored through Django's default storage."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=_attachment_path, max_length=300)
    name = models.CharField(_("name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    is_internal = models.BooleanField(_("internal"), default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name
