"""Problems: the record that finds and removes the cause of recurring incidents.

Every write goes through :mod:`itsmo.problems.services`; this module holds the data, its
invariants, the transition tables (problem and problem task) and the ``visible_to`` rule.

Scope: problems are staff records. A problem with a country is visible to the staff who
see that country; one with only a region to those who see the region; one with neither
(it spans regions) to every staff member. End users see no problems. Problem candidates
are visible to the staff who see at least one of the countries their incidents come from.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itsmo.core.models import TimeStampedModel
from itsmo.core.scoping import ScopedQuerySet, scope_of
from itsmo.core.states import StateMachine, Transition
from itsmo.incidents.models import Impact, Priority, Urgency


class Status(models.TextChoices):
    NEW = "new", _("New")
    ASSESSED = "assessed", _("Assessed")
    ROOT_CAUSE_ANALYSIS = "root_cause_analysis", _("Root-cause analysis")
    KNOWN_ERROR = "known_error", _("Known error")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


#: States in which a problem is still being worked.
OPEN_STATES = frozenset(
    {Status.NEW, Status.ASSESSED, Status.ROOT_CAUSE_ANALYSIS, Status.KNOWN_ERROR}
)
#: States after which nothing changes any more.
FINAL_STATES = frozenset({Status.CLOSED, Status.CANCELLED})


class RcaMethod(models.TextChoices):
    FIVE_WHYS = "five_whys", _("5 whys")
    ISHIKAWA = "ishikawa", _("Ishikawa (fishbone)")
    FAULT_TREE = "fault_tree", _("Fault tree")
    TIMELINE = "timeline", _("Timeline")


class ResolutionCode(models.TextChoices):
    FIX_APPLIED = "fix_applied", _("Fix applied")
    RISK_ACCEPTED = "risk_accepted", _("Risk accepted")
    DUPLICATE = "duplicate", _("Duplicate")
    NO_LONGER_OCCURRING = "no_longer_occurring", _("No longer occurring")


class ProblemQuerySet(ScopedQuerySet):
    def visible_to(self, user) -> ProblemQuerySet:
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if not user.is_staff_member:
            return self.none()
        return super().visible_to(user)

    def open(self) -> ProblemQuerySet:
        return self.filter(status__in=OPEN_STATES)


ProblemManager = models.Manager.from_queryset(ProblemQuerySet)


class Problem(TimeStampedModel):
    """The unknown cause of one or more incidents; a known error once its root cause and a
    workaround are documented."""

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    service = models.ForeignKey(
        "catalog.Service",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="problems",
        verbose_name=_("service"),
    )
    cis = models.ManyToManyField(
        "cmdb.CI", blank=True, related_name="problems", verbose_name=_("configuration items")
    )
    impact = models.PositiveSmallIntegerField(
        _("impact"), choices=Impact.choices, default=Impact.MEDIUM
    )
    urgency = models.PositiveSmallIntegerField(
        _("urgency"), choices=Urgency.choices, default=Urgency.MEDIUM
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.P3
    )
    status = models.CharField(_("state"), max_length=30, choices=Status.choices, default=Status.NEW)
    problem_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="managed_problems",
        verbose_name=_("problem manager"),
    )
    assignment_group = models.ForeignKey(
        "accounts.SupportGroup",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="problems",
        verbose_name=_("assignment group"),
    )
    country = models.ForeignKey(
        "organization.Country",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="problems",
        verbose_name=_("country"),
    )
    #: Derived from the country when there is one; alone for a problem of a whole region.
    region = models.ForeignKey(
        "organization.Region",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="problems",
        verbose_name=_("region"),
    )
    rca_method = models.CharField(
        _("analysis method"), max_length=20, choices=RcaMethod.choices, blank=True
    )
    root_cause = models.TextField(_("root cause"), blank=True)
    workaround = models.TextField(_("workaround"), blank=True)
    fixing_changes = models.ManyToManyField(
        "changes.Change",
        blank=True,
        related_name="fixed_problems",
        verbose_name=_("fixing changes"),
    )
    resolution_code = models.CharField(
        _("resolution code"), max_length=30, choices=ResolutionCode.choices, blank=True
    )
    resolution_notes = models.TextField(_("resolution notes"), blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("opened by"),
    )
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    known_error_at = models.DateTimeField(_("known error since"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    external_source = models.CharField(_("external source"), max_length=40, blank=True)
    external_reference = models.CharField(_("external reference"), max_length=100, blank=True)

    scope_country_field = "country"
    scope_region_field = "region"
    scope_unscoped_is_global = True
    objects = ProblemManager()

    class Meta:
        verbose_name = _("problem")
        verbose_name_plural = _("problems")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "priority"], name="problem_status_priority"),
            models.Index(fields=["country", "opened_at"], name="problem_country_opened"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_source", "external_reference"],
                condition=~Q(external_reference=""),
                name="problem_unique_external_reference",
            ),
            models.CheckConstraint(
                condition=Q(impact__gte=1, impact__lte=3), name="problem_impact_range"
            ),
            models.CheckConstraint(
                condition=Q(urgency__gte=1, urgency__lte=3), name="problem_urgency_range"
            ),
            models.CheckConstraint(
                condition=Q(priority__gte=1, priority__lte=5), name="problem_priority_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def priority_label(self) -> str:
        return f"P{self.priority}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATES

    def has_fixing_change(self) -> bool:
        return self.pk is not None and self.fixing_changes.exists()

    def api_snapshot(self) -> dict:
        """What a 409 answer shows of the current record."""
        return {
            "number": self.number,
            "state": self.status,
            "priority": self.priority,
            "title": self.title,
            "problem_manager": self.problem_manager.username if self.problem_manager_id else None,
            "version": self.version,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


# -- lifecycle ------------------------------------------------------------------------------


def _needs_manager(problem: Problem, **context) -> str | None:
    if not problem.problem_manager_id:
        return str(_("a problem manager is required to assess the problem"))
    return None


def _needs_root_cause_and_workaround(problem: Problem, **context) -> str | None:
    if not (problem.root_cause or "").strip():
        return str(_("a root cause is required for a known error"))
    if not (problem.workaround or "").strip():
        return str(_("a workaround is required for a known error"))
    return None


def _needs_fix_or_reason(problem: Problem, **context) -> str | None:
    if problem.has_fixing_change():
        return None
    if not (problem.resolution_notes or "").strip():
        return str(_("a fixing change or a reason is required to resolve"))
    return None


def _needs_reason(problem: Problem, note: str = "", **context) -> str | None:
    if not (note or "").strip():
        return str(_("a reason is required to cancel"))
    return None


LIFECYCLE = StateMachine(
    "status",
    [
        Transition(Status.NEW, Status.ASSESSED, guard=_needs_manager, label=_("Assess")),
        Transition(
            (Status.NEW, Status.ASSESSED),
            Status.ROOT_CAUSE_ANALYSIS,
            guard=_needs_manager,
            label=_("Start root-cause analysis"),
        ),
        Transition(
            Status.ROOT_CAUSE_ANALYSIS,
            Status.KNOWN_ERROR,
            guard=_needs_root_cause_and_workaround,
            label=_("Mark as known error"),
        ),
        Transition(
            (Status.ROOT_CAUSE_ANALYSIS, Status.KNOWN_ERROR),
            Status.RESOLVED,
            guard=_needs_fix_or_reason,
            label=_("Resolve"),
        ),
        Transition(Status.RESOLVED, Status.ROOT_CAUSE_ANALYSIS, label=_("Reopen")),
        Transition(Status.RESOLVED, Status.CLOSED, label=_("Close")),
        Transition(
            (Status.NEW, Status.ASSESSED, Status.ROOT_CAUSE_ANALYSIS, Status.KNOWN_ERROR),
            Status.CANCELLED,
            guard=_needs_reason,
            label=_("Cancel"),
        ),
    ],
)


# -- problem tasks --------------------------------------------------------------------------


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


TASK_LIFECYCLE = StateMachine(
    "status",
    [
        Transition(TaskStatus.OPEN, TaskStatus.DONE, label=_("Mark done")),
        Transition(TaskStatus.DONE, TaskStatus.OPEN, label=_("Reopen")),
    ],
)


class ProblemTask(TimeStampedModel):
    """A piece of investigation or fixing work of a problem, with its owner."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="tasks")
    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="problem_tasks",
        verbose_name=_("owner"),
    )
    status = models.CharField(
        _("state"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("problem task")
        verbose_name_plural = _("problem tasks")

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


# -- problem candidates ---------------------------------------------------------------------


class CandidateState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACCEPTED = "accepted", _("Accepted")
    MERGED = "merged", _("Merged")
    DISMISSED = "dismissed", _("Dismissed")


class CandidateQuerySet(models.QuerySet):
    def visible_to(self, user) -> CandidateQuerySet:
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if not user.is_staff_member:
            return self.none()
        scope = scope_of(user)
        if scope.is_global:
            return self.all()
        through = ProblemCandidate.countries.through.objects.filter(
            country_id__in=scope.country_ids
        )
        return self.filter(pk__in=through.values("problemcandidate_id"))


CandidateManager = models.Manager.from_queryset(CandidateQuerySet)


class ProblemCandidate(TimeStampedModel):
    """A recurring pattern of incidents found by detection, with its evidence, waiting for
    an analyst to accept it (a new problem), merge it (an existing problem) or dismiss it.

    A dismissed (or accepted, or merged) signature is never proposed again."""

    signature = models.CharField(_("signature"), max_length=200, unique=True)
    incidents = models.ManyToManyField(
        "incidents.Incident", blank=True, related_name="problem_candidates"
    )
    incident_count = models.PositiveIntegerField(_("incidents"), default=0)
    first_at = models.DateTimeField(_("first occurrence"))
    last_at = models.DateTimeField(_("last occurrence"))
    ci = models.ForeignKey(
        "cmdb.CI",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("common CI"),
    )
    service = models.ForeignKey(
        "catalog.Service",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("common service"),
    )
    category = models.ForeignKey(
        "incidents.Category",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("common category"),
    )
    countries = models.ManyToManyField(
        "organization.Country", blank=True, related_name="+", verbose_name=_("countries")
    )
    business_processes = models.ManyToManyField(
        "catalog.BusinessProcess",
        blank=True,
        related_name="+",
        verbose_name=_("business processes"),
    )
    terms = models.JSONField(_("top terms"), default=list, blank=True)
    score = models.FloatField(_("score"), default=0.0)
    state = models.CharField(
        _("state"), max_length=20, choices=CandidateState.choices, default=CandidateState.PROPOSED
    )
    problem = models.ForeignKey(
        Problem,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="candidates",
        verbose_name=_("problem"),
    )
    detected_at = models.DateTimeField(_("detected"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    dismiss_reason = models.TextField(_("reason for dismissal"), blank=True)

    objects = CandidateManager()

    class Meta:
        ordering = ["-score", "-last_at", "id"]
        verbose_name = _("problem candidate")
        verbose_name_plural = _("problem candidates")
        indexes = [models.Index(fields=["state", "score"], name="candidate_state_score")]

    def __str__(self) -> str:
        return f"{self.signature} ({self.incident_count})"

    @property
    def is_proposed(self) -> bool:
        return self.state == CandidateState.PROPOSED

    def suggested_title(self) -> str:
        what = self.ci or self.service or self.category
        terms = ", ".join(self.terms[:3])
        base = str(_("Recurring incidents"))
        if what is not None:
            base = f"{base}: {getattr(what, 'name', what)}"
        return f"{base} ({terms})"[:200] if terms else base[:200]

    def api_snapshot(self) -> dict:
        return {"id": self.pk, "state": self.state, "version": self.version}
