"""The service portfolio: business processes, services, request offerings.

The portfolio is reference data: every signed-in staff user may read it, whatever the
region (a Brazil agent must be able to pick "Corporate E-mail"). Region scoping applies to
the configuration items that deliver a service, not to the service itself.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from itsmo.core.models import TimeStampedModel
from itsmo.core.states import StateMachine, Transition


class Criticality(models.IntegerChoices):
    CRITICAL = 1, _("1 - Critical")
    HIGH = 2, _("2 - High")
    MEDIUM = 3, _("3 - Medium")
    LOW = 4, _("4 - Low")


class BusinessProcess(TimeStampedModel):
    """A process of the business (Sales, Production, Logistics…) that services support."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=150, unique=True)
    criticality = models.PositiveSmallIntegerField(
        _("criticality"), choices=Criticality.choices, default=Criticality.MEDIUM
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_business_processes",
        verbose_name=_("owner"),
    )
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["criticality", "name"]
        verbose_name = _("business process")
        verbose_name_plural = _("business processes")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(criticality__gte=1, criticality__lte=4),
                name="business_process_criticality_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ServiceKind(models.TextChoices):
    BUSINESS = "business", _("Business service")
    TECHNICAL = "technical", _("Technical service")


class Lifecycle(models.TextChoices):
    PIPELINE = "pipeline", _("Pipeline")
    CATALOGUE = "catalogue", _("Catalogue")
    RETIRED = "retired", _("Retired")


#: Portfolio lifecycle: pipeline → catalogue → retired (a retired service may come back
#: to the pipeline when it is redesigned, never straight to the catalogue).
SERVICE_LIFECYCLE = StateMachine(
    "lifecycle",
    [
        Transition(Lifecycle.PIPELINE, Lifecycle.CATALOGUE, label=_("Publish in the catalogue")),
        Transition((Lifecycle.PIPELINE, Lifecycle.CATALOGUE), Lifecycle.RETIRED, label=_("Retire")),
        Transition(Lifecycle.RETIRED, Lifecycle.PIPELINE, label=_("Back to the pipeline")),
    ],
)


class Service(TimeStampedModel):
    """A business or technical service of the portfolio.

    Services depend on each other only through their configuration items: "Handheld
    Route Sales" depends on "WAN" because a CI of the first depends on a CI of the
    second (see ``cmdb.impact.service_dependencies``). There is no separate
    service-to-service table to keep in step with the CMDB.
    """

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=150, unique=True)
    kind = models.CharField(
        _("kind"), max_length=20, choices=ServiceKind.choices, default=ServiceKind.BUSINESS
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_services",
        verbose_name=_("owner"),
    )
    support_group = models.ForeignKey(
        "accounts.SupportGroup",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="services",
        verbose_name=_("support group"),
        help_text=_("Default assignment group for incidents and requests on this service."),
    )
    lifecycle = models.CharField(
        _("lifecycle"), max_length=20, choices=Lifecycle.choices, default=Lifecycle.PIPELINE
    )
    countries = models.ManyToManyField(
        "organization.Country", blank=True, related_name="services", verbose_name=_("countries")
    )
    business_processes = models.ManyToManyField(
        BusinessProcess,
        through="ServiceProcess",
        blank=True,
        related_name="services",
        verbose_name=_("business processes"),
    )
    criticality = models.PositiveSmallIntegerField(
        _("criticality"), choices=Criticality.choices, default=Criticality.MEDIUM
    )
    service_hours = models.ForeignKey(
        "organization.BusinessCalendar",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("service hours"),
    )
    description = models.TextField(_("description"), blank=True)
    portal_description = models.TextField(_("portal description"), blank=True)
    is_portal_visible = models.BooleanField(_("visible in the portal"), default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("service")
        verbose_name_plural = _("services")
        indexes = [models.Index(fields=["kind", "lifecycle"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(criticality__gte=1, criticality__lte=4),
                name="service_criticality_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def api_snapshot(self) -> dict:
        return {
            "id": self.pk,
            "code": self.code,
            "name": self.name,
            "kind": self.kind,
            "lifecycle": self.lifecycle,
            "criticality": self.criticality,
            "version": self.version,
        }


class ServiceProcess(models.Model):
    """A service supports a business process with a weight (0-100, share of the process)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="process_links")
    business_process = models.ForeignKey(
        BusinessProcess, on_delete=models.CASCADE, related_name="service_links"
    )
    weight = models.PositiveSmallIntegerField(_("weight"), default=100)

    class Meta:
        ordering = ["business_process__name"]
        verbose_name = _("service-process link")
        verbose_name_plural = _("service-process links")
        constraints = [
            models.UniqueConstraint(
                fields=["service", "business_process"], name="service_process_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(weight__lte=100), name="service_process_weight_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} → {self.business_process} ({self.weight})"


class FieldType(models.TextChoices):
    TEXT = "text", _("Text")
    TEXTAREA = "textarea", _("Long text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Choice")
    BOOL = "bool", _("Yes/no")
    USER = "user", _("User")


class RequestOffering(TimeStampedModel):
    """A standard request users order from the portal ("New laptop").

    ``form_definition`` is a list of fields, validated by
    :func:`itsmo.catalog.forms_schema.validate_form_definition`::

        [{"name": "model", "label": "Model", "type": "choice", "required": true,
          "options": ["14 inch", "16 inch"]}]
    """

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=150)
    service = models.ForeignKey(
        Service,
        on_delete=models.PROTECT,
        related_name="request_offerings",
        verbose_name=_("service"),
    )
    description = models.TextField(_("description"), blank=True)
    form_definition = models.JSONField(_("form definition"), default=list, blank=True)
    fulfilment_group = models.ForeignKey(
        "accounts.SupportGroup",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="request_offerings",
        verbose_name=_("default fulfilment group"),
    )
    portal_category = models.CharField(_("portal category"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["portal_category", "name"]
        verbose_name = _("request offering")
        verbose_name_plural = _("request offerings")

    def __str__(self) -> str:
        return self.name
