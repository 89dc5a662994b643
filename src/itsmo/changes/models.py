"""Changes: the record that authorises, schedules and reviews a change to a service or CI.

Also here: the catalogue of pre-approved templates (standard changes), the approval rules
and the approvals they generate, blackout windows, and releases with their deployment
windows. Every write goes through :mod:`itsmo.changes.services`; this module holds the
data, its invariants, the transition table with its guards and the ``visible_to`` rule.
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


class ChangeType(models.TextChoices):
    STANDARD = "standard", _("Standard")
    NORMAL = "normal", _("Normal")
    EMERGENCY = "emergency", _("Emergency")


class Status(models.TextChoices):
    NEW = "new", _("New")
    ASSESS = "assess", _("Assess")
    AUTHORISE = "authorise", _("Authorise")
    SCHEDULED = "scheduled", _("Scheduled")
    IMPLEMENT = "implement", _("Implement")
    REVIEW = "review", _("Review")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


#: States after which nothing changes any more.
FINAL_STATES = frozenset({Status.CLOSED, Status.CANCELLED})
#: States whose planned window counts on the calendar and for collisions.
ACTIVE_STATES = frozenset(
    {Status.NEW, Status.ASSESS, Status.AUTHORISE, Status.SCHEDULED, Status.IMPLEMENT}
)
#: States in which the planned window can still be (re)scheduled.
SCHEDULABLE_STATES = frozenset({Status.NEW, Status.ASSESS, Status.AUTHORISE, Status.SCHEDULED})


class Risk(models.TextChoices):
    LOW = "low", _("Low")
    MODERATE = "moderate", _("Moderate")
    HIGH = "high", _("High")


RISK_ORDER = {Risk.LOW: 1, Risk.MODERATE: 2, Risk.HIGH: 3}


class Impact(models.IntegerChoices):
    HIGH = 1, _("1 - High")
    MEDIUM = 2, _("2 - Medium")
    LOW = 3, _("3 - Low")


class ApprovalState(models.TextChoices):
    NOT_REQUESTED = "not_requested", _("Not requested")
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class CloseCode(models.TextChoices):
    SUCCESSFUL = "successful", _("Successful")
    SUCCESSFUL_WITH_ISSUES = "successful_with_issues", _("Successful with issues")
    FAILED = "failed", _("Failed")
    BACKED_OUT = "backed_out", _("Backed out")


#: Outcomes that always need a post-implementation review, whatever the type.
UNSUCCESSFUL = frozenset({CloseCode.FAILED, CloseCode.BACKED_OUT})


class ChangeTemplate(TimeStampedModel):
    """A pre-approved standard change: what, how, how to back out, how to test."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=150, unique=True)
    description = models.TextField(_("description"), blank=True)
    service = models.ForeignKey(
        "catalog.Service",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="change_templates",
        verbose_name=_("service"),
    )
    assignment_group = models.ForeignKey(
        "accounts.SupportGroup",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="change_templates",
        verbose_name=_("assignment group"),
    )
    implementation_plan = models.TextField(_("implementation plan"))
    backout_plan = models.TextField(_("back-out plan"))
    test_plan = models.TextField(_("test plan"), blank=True)
    risk = models.CharField(_("risk"), max_length=10, choices=Risk.choices, default=Risk.LOW)
    duration_minutes = models.PositiveIntegerField(_("usual duration (minutes)"), default=60)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("change template")
        verbose_name_plural = _("change templates")

    def __str__(self) -> str:
        return self.name


class ChangeQuerySet(ScopedQuerySet):
    def visible_to(self, user) -> ChangeQuerySet:
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if not user.is_staff_member:
            return self.none()
        return super().visible_to(user)

    def active(self) -> ChangeQuerySet:
        return self.filter(status__in=ACTIVE_STATES)

    def overlapping(self, start, end) -> ChangeQuerySet:
        return self.filter(planned_start__lt=end, planned_end__gt=start)


ChangeManager = models.Manager.from_queryset(ChangeQuerySet)


class Change(TimeStampedModel):
    """A request for change (RFC): standard, normal or emergency."""

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    type = models.CharField(
        _("type"), max_length=20, choices=ChangeType.choices, default=ChangeType.NORMAL
    )
    status = models.CharField(_("state"), max_length=20, choices=Status.choices, default=Status.NEW)
    template = models.ForeignKey(
        ChangeTemplate,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="changes",
        verbose_name=_("template"),
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="changes_requested",
        verbose_name=_("requester"),
    )
    change_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="changes_managed",
        verbose_name=_("change manager"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="changes_assigned",
        verbose_name=_("assignee"),
    )
    assignment_group = models.ForeignKey(
        "accounts.SupportGroup",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="changes",
        verbose_name=_("assignment group"),
    )
    services = models.ManyToManyField(
        "catalog.Service", blank=True, related_name="changes", verbose_name=_("services")
    )
    cis = models.ManyToManyField(
        "cmdb.CI",
        blank=True,
        through="ChangeCI",
        related_name="changes",
        verbose_name=_("configuration items"),
    )
    country = models.ForeignKey(
        "organization.Country",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="changes",
        verbose_name=_("country"),
    )
    #: Derived from the country by the service; stored for scoping and reporting.
    region = models.ForeignKey(
        "organization.Region",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="changes",
        verbose_name=_("region"),
    )
    release = models.ForeignKey(
        "Release",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="changes",
        verbose_name=_("release"),
    )
    planned_start = models.DateTimeField(_("planned start"), null=True, blank=True)
    planned_end = models.DateTimeField(_("planned end"), null=True, blank=True)
    actual_start = models.DateTimeField(_("actual start"), null=True, blank=True)
    actual_end = models.DateTimeField(_("actual end"), null=True, blank=True)
    implementation_plan = models.TextField(_("implementation plan"), blank=True)
    backout_plan = models.TextField(_("back-out plan"), blank=True)
    test_plan = models.TextField(_("test plan"), blank=True)
    risk = models.CharField(_("risk"), max_length=10, choices=Risk.choices, blank=True)
    risk_score = models.PositiveSmallIntegerField(_("risk score"), null=True, blank=True)
    risk_answers = models.JSONField(_("risk answers"), default=dict, blank=True)
    impact = models.PositiveSmallIntegerField(
        _("impact"), choices=Impact.choices, null=True, blank=True
    )
    #: What the CMDB impact analysis found: counts, services, processes, countries.
    impact_summary = models.JSONField(_("impact analysis"), default=dict, blank=True)
    impact_assessed_at = models.DateTimeField(_("impact assessed"), null=True, blank=True)
    is_cab_required = models.BooleanField(_("CAB required"), default=False)
    is_emergency = models.BooleanField(_("emergency"), default=False)
    approval = models.CharField(
        _("approval"),
        max_length=20,
        choices=ApprovalState.choices,
        default=ApprovalState.NOT_REQUESTED,
    )
    #: The window the last granted approvals covered (the planned window when they were
    #: granted, or the first one set after an approval given without a window). Moving the
    #: planned window out of it asks for the approvals again; cleared when they are void.
    approved_start = models.DateTimeField(_("approved window start"), null=True, blank=True)
    approved_end = models.DateTimeField(_("approved window end"), null=True, blank=True)
    schedule_override_reason = models.TextField(_("schedule override reason"), blank=True)
    close_code = models.CharField(
        _("close code"), max_length=30, choices=CloseCode.choices, blank=True
    )
    close_notes = models.TextField(_("close notes"), blank=True)
    review_notes = models.TextField(_("post-implementation review"), blank=True)
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    external_source = models.CharField(_("external source"), max_length=40, blank=True)
    external_reference = models.CharField(_("external reference"), max_length=100, blank=True)

    scope_country_field = "country"
    scope_region_field = "region"
    objects = ChangeManager()

    class Meta:
        verbose_name = _("change")
        verbose_name_plural = _("changes")
        ordering = ["-created_at"]
        indexes = [
            # The calendar and the collision check: active changes overlapping a window.
            models.Index(
                fields=["planned_start", "planned_end"],
                condition=Q(status__in=sorted(ACTIVE_STATES)),
                name="change_active_window",
            ),
            models.Index(fields=["status", "created_at"], name="change_status_created"),
            models.Index(fields=["country", "planned_start"], name="change_country_start"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_source", "external_reference"],
                condition=~Q(external_reference=""),
                name="change_unique_external_reference",
            ),
            models.CheckConstraint(
                condition=Q(planned_start__isnull=True)
                | Q(planned_end__isnull=True)
                | Q(planned_end__gt=models.F("planned_start")),
                name="change_planned_window_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATES

    @property
    def needs_approval(self) -> bool:
        return self.type != ChangeType.STANDARD

    @property
    def is_authorised(self) -> bool:
        """A normal or emergency change holding its approvals."""
        return self.needs_approval and self.approval == ApprovalState.APPROVED

    @property
    def is_reapproval_pending(self) -> bool:
        """Approvals asked again because the window moved out of the approved one."""
        return (
            self.needs_approval
            and self.approval == ApprovalState.REQUESTED
            and self.approved_start is not None
        )

    def approved_window_covers(self, start, end) -> bool:
        """``[start, end)`` lies inside the approved window (shrinking keeps approvals)."""
        return (
            None not in (start, end, self.approved_start, self.approved_end)
            and start >= self.approved_start
            and end <= self.approved_end
        )

    def needs_reapproval(self, start, end) -> bool:
        """Would moving the planned window to ``[start, end)`` re-open the authorisation?

        Only for a normal or emergency change that holds its approvals before
        implementation, for an approved window the new one is not inside. Standard changes
        are pre-approved and never asked again."""
        return (
            self.is_authorised
            and self.status in (Status.AUTHORISE, Status.SCHEDULED)
            and None not in (start, end, self.approved_start, self.approved_end)
            and not self.approved_window_covers(start, end)
        )

    @property
    def needs_review(self) -> bool:
        """Normal and emergency changes always get a PIR; a standard one when it failed."""
        return self.type != ChangeType.STANDARD or self.close_code in UNSUCCESSFUL

    def api_snapshot(self) -> dict:
        """What a 409 answer shows of the current record."""
        return {
            "number": self.number,
            "state": self.status,
            "type": self.type,
            "title": self.title,
            "risk": self.risk,
            "approval": self.approval,
            "planned_start": self.planned_start.isoformat() if self.planned_start else None,
            "planned_end": self.planned_end.isoformat() if self.planned_end else None,
            "version": self.version,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


class ChangeCI(models.Model):
    """A CI a change touches (the through table, indexed for the collision check)."""

    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name="ci_links")
    ci = models.ForeignKey(
        "cmdb.CI", on_delete=models.PROTECT, related_name="change_links", db_index=False
    )

    class Meta:
        verbose_name = _("changed CI")
        verbose_name_plural = _("changed CIs")
        constraints = [
            models.UniqueConstraint(fields=["change", "ci"], name="change_ci_unique"),
        ]
        indexes = [models.Index(fields=["ci", "change"], name="change_ci_by_ci")]

    def __str__(self) -> str:
        return f"{self.change_id} → {self.ci_id}"


# -- lifecycle ------------------------------------------------------------------------------


def _type_is(*types: str):
    def guard(change: Change, **context) -> str | None:
        if change.type not in types:
            return str(_("this step is not part of the lifecycle of %(type)s changes")) % {
                "type": change.type
            }
        return None

    return guard


def _all(*guards):
    def guard(change: Change, **context) -> str | None:
        for check in guards:
            refusal = check(change, **context)
            if refusal is not None:
                return refusal
        return None

    return guard


def _has_plans(change: Change, **context) -> str | None:
    if not change.implementation_plan.strip():
        return str(_("an implementation plan is required"))
    if not change.backout_plan.strip():
        return str(_("a back-out plan is required"))
    return None


def _has_risk(change: Change, **context) -> str | None:
    if not change.risk:
        return str(_("the risk assessment is required"))
    return None


def _has_window(change: Change, **context) -> str | None:
    if change.planned_start is None or change.planned_end is None:
        return str(_("a planned start and end are required (schedule the change)"))
    return None


def _is_approved(change: Change, **context) -> str | None:
    if change.needs_approval and change.approval != ApprovalState.APPROVED:
        return str(_("the change is not approved (approval: %(state)s)")) % {
            "state": change.approval
        }
    return None


def _window_moved_out(change: Change, **context) -> str | None:
    # Worded without the keywords ``services._refusal_field`` maps: a 409 on "to".
    if not change.needs_reapproval(change.planned_start, change.planned_end):
        return str(
            _(
                "a scheduled change goes back to Authorise by itself, when it is rescheduled "
                "outside the window its approvers agreed to"
            )
        )
    return None


def _has_close_code(change: Change, **context) -> str | None:
    if not change.close_code:
        return str(_("a close code (the outcome of the implementation) is required"))
    return None


def _has_review(change: Change, **context) -> str | None:
    if change.needs_review and not change.review_notes.strip():
        return str(_("the post-implementation review is required"))
    return None


LIFECYCLE = StateMachine(
    "status",
    [
        Transition(
            Status.NEW,
            Status.ASSESS,
            guard=_all(_type_is(ChangeType.NORMAL), _has_plans),
            label=_("Request assessment"),
        ),
        Transition(
            Status.ASSESS,
            Status.AUTHORISE,
            guard=_all(_type_is(ChangeType.NORMAL), _has_plans, _has_risk),
            label=_("Request authorisation"),
        ),
        Transition(
            Status.NEW,
            Status.AUTHORISE,
            guard=_all(_type_is(ChangeType.EMERGENCY), _has_plans, _has_risk),
            label=_("Request ECAB authorisation"),
        ),
        Transition(
            Status.NEW,
            Status.SCHEDULED,
            guard=_all(_type_is(ChangeType.STANDARD), _has_plans, _has_window),
            label=_("Schedule"),
        ),
        Transition(
            Status.AUTHORISE,
            Status.SCHEDULED,
            guard=_all(_is_approved, _has_window),
            label=_("Schedule"),
        ),
        Transition(
            Status.SCHEDULED,
            Status.IMPLEMENT,
            guard=_all(_is_approved, _has_window),
            label=_("Implement"),
        ),
        Transition(
            Status.SCHEDULED,
            Status.AUTHORISE,
            guard=_window_moved_out,
            label=_("Request authorisation again"),
        ),
        Transition(Status.IMPLEMENT, Status.REVIEW, guard=_has_close_code, label=_("Review")),
        Transition(Status.REVIEW, Status.CLOSED, guard=_has_review, label=_("Close")),
        Transition(
            (Status.ASSESS, Status.AUTHORISE, Status.SCHEDULED),
            Status.NEW,
            label=_("Revert to new"),
        ),
        Transition(
            (Status.NEW, Status.ASSESS, Status.AUTHORISE, Status.SCHEDULED),
            Status.CANCELLED,
            label=_("Cancel"),
        ),
    ],
)

#: Moves the services make by themselves (rescheduling an authorised change out of its
#: approved window); never offered on the page or in ``next_states``.
AUTOMATIC_TRANSITIONS = frozenset({(Status.SCHEDULED, Status.AUTHORISE)})


def offered_targets(state: str) -> list[str]:
    """The states a user may ask to move a change to from ``state``."""
    return [t for t in LIFECYCLE.targets_from(state) if (state, t) not in AUTOMATIC_TRANSITIONS]


# -- approvals ------------------------------------------------------------------------------


class ApproverSource(models.TextChoices):
    GROUP = "group", _("Members of a group (CAB, ECAB…)")
    SERVICE_OWNERS = "service_owners", _("Owners of the affected services")
    REGIONAL_MANAGERS = "regional_managers", _("IT managers of the change's region")


class Policy(models.TextChoices):
    ALL = "all", _("All must approve")
    ANY = "any", _("Any one approves")
    MAJORITY = "majority", _("A majority approves")


class ApprovalRule(TimeStampedModel):
    """Who approves which changes: by type and from which risk, with a policy and deadline."""

    name = models.CharField(_("name"), max_length=150, unique=True)
    change_type = models.CharField(
        _("change type"),
        max_length=20,
        choices=[c for c in ChangeType.choices if c[0] != ChangeType.STANDARD],
    )
    min_risk = models.CharField(
        _("from risk"),
        max_length=10,
        choices=Risk.choices,
        default=Risk.LOW,
        help_text=_("The rule applies to changes of this risk or higher."),
    )
    source = models.CharField(
        _("approvers"), max_length=30, choices=ApproverSource.choices, default=ApproverSource.GROUP
    )
    group = models.ForeignKey(
        "accounts.SupportGroup",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="change_approval_rules",
        verbose_name=_("approver group"),
    )
    is_cab = models.BooleanField(
        _("CAB"),
        default=False,
        help_text=_("A board: applies only to changes flagged 'CAB required'."),
    )
    policy = models.CharField(_("policy"), max_length=10, choices=Policy.choices)
    deadline_hours = models.PositiveIntegerField(_("deadline (hours)"), default=48)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["change_type", "position", "name"]
        verbose_name = _("approval rule")
        verbose_name_plural = _("approval rules")
        constraints = [
            models.CheckConstraint(
                condition=~Q(source="group") | Q(group__isnull=False),
                name="change_approval_rule_group_needed",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def applies_to(self, change: Change) -> bool:
        if not self.is_active or change.type != self.change_type:
            return False
        if self.is_cab and not change.is_cab_required:
            return False
        return RISK_ORDER.get(change.risk or Risk.LOW, 1) >= RISK_ORDER[self.min_risk]


class RequestState(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


class ApprovalRequest(models.Model):
    """One rule applied to one change: a set of approvers deciding under a policy."""

    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name="approval_requests")
    rule = models.ForeignKey(
        ApprovalRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests"
    )
    name = models.CharField(_("name"), max_length=150)
    policy = models.CharField(_("policy"), max_length=10, choices=Policy.choices)
    state = models.CharField(
        _("state"), max_length=20, choices=RequestState.choices, default=RequestState.REQUESTED
    )
    #: Each time the change enters Authorise (or its window moves out of the approved one)
    #: a new round of requests starts; only the current round decides the change.
    round = models.PositiveSmallIntegerField(_("round"), default=1)
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        ordering = ["requested_at", "id"]
        verbose_name = _("approval request")
        verbose_name_plural = _("approval requests")
        indexes = [models.Index(fields=["state", "due_at"], name="change_approval_due")]

    def __str__(self) -> str:
        return f"{self.name} ({self.state})"

    @property
    def is_overdue(self) -> bool:
        return (
            self.state == RequestState.REQUESTED
            and self.due_at is not None
            and self.due_at < timezone.now()
        )


class Approval(models.Model):
    """One approver's decision within a request."""

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="approvals")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="change_approvals"
    )
    state = models.CharField(
        _("state"), max_length=20, choices=RequestState.choices, default=RequestState.REQUESTED
    )
    comment = models.TextField(_("comment"), blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("approval")
        verbose_name_plural = _("approvals")
        constraints = [
            models.UniqueConstraint(fields=["request", "approver"], name="change_approval_unique"),
        ]
        indexes = [models.Index(fields=["approver", "state"], name="change_approval_approver")]

    def __str__(self) -> str:
        return f"{self.approver} {self.state}"


# -- blackout windows -----------------------------------------------------------------------


class BlackoutQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def overlapping(self, start, end):
        return self.filter(start_at__lt=end, end_at__gt=start)


class BlackoutWindow(TimeStampedModel):
    """A period in which no change may be implemented: global, in a region or a country."""

    name = models.CharField(_("name"), max_length=150)
    reason = models.TextField(_("reason"), blank=True)
    start_at = models.DateTimeField(_("start"))
    end_at = models.DateTimeField(_("end"))
    region = models.ForeignKey(
        "organization.Region",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="change_blackouts",
        verbose_name=_("region"),
    )
    country = models.ForeignKey(
        "organization.Country",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="change_blackouts",
        verbose_name=_("country"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = BlackoutQuerySet.as_manager()

    class Meta:
        ordering = ["start_at", "id"]
        verbose_name = _("blackout window")
        verbose_name_plural = _("blackout windows")
        indexes = [models.Index(fields=["start_at", "end_at"], name="change_blackout_window")]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_at__gt=models.F("start_at")), name="change_blackout_order"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def scope_label(self) -> str:
        if self.country_id:
            return self.country.name
        if self.region_id:
            return self.region.name
        return str(_("Global"))


# -- releases -------------------------------------------------------------------------------


class ReleaseStatus(models.TextChoices):
    PLANNING = "planning", _("Planning")
    SCHEDULED = "scheduled", _("Scheduled")
    IN_PROGRESS = "in_progress", _("Deploying")
    DEPLOYED = "deployed", _("Deployed")
    CANCELLED = "cancelled", _("Cancelled")


class Release(TimeStampedModel):
    """A version bundling changes, deployed region by region or country by country."""

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=150)
    version_label = models.CharField(_("version"), max_length=40)
    description = models.TextField(_("description"), blank=True)
    service = models.ForeignKey(
        "catalog.Service",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="releases",
        verbose_name=_("service"),
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="releases_managed",
        verbose_name=_("release manager"),
    )
    status = models.CharField(
        _("state"), max_length=20, choices=ReleaseStatus.choices, default=ReleaseStatus.PLANNING
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("release")
        verbose_name_plural = _("releases")

    def __str__(self) -> str:
        return f"{self.number} {self.name} {self.version_label}"


class DeploymentStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    DEPLOYED = "deployed", _("Deployed")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class Deployment(TimeStampedModel):
    """A planned deployment window of a release in one region or country."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="deployments")
    region = models.ForeignKey(
        "organization.Region",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="release_deployments",
        verbose_name=_("region"),
    )
    country = models.ForeignKey(
        "organization.Country",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="release_deployments",
        verbose_name=_("country"),
    )
    planned_start = models.DateTimeField(_("planned start"))
    planned_end = models.DateTimeField(_("planned end"))
    status = models.CharField(
        _("state"),
        max_length=20,
        choices=DeploymentStatus.choices,
        default=DeploymentStatus.PLANNED,
    )
    deployed_at = models.DateTimeField(_("deployed"), null=True, blank=True)

    class Meta:
        ordering = ["planned_start", "id"]
        verbose_name = _("deployment window")
        verbose_name_plural = _("deployment windows")
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_end__gt=models.F("planned_start")),
                name="change_deployment_order",
            ),
        ]

    def __str__(self) -> str:
        where = self.country or self.region or _("Global")
        return f"{self.release.number} {where}"
