"""Configuration items, their classes and declared attributes, relationships, service links.

Direction convention for every relationship type: the *source* consumes or is made of the
*target*. "A depends_on B", "VM runs_on host", "switch connects_to WAN link",
"cluster contains node": in each case a failure of the target impacts the source.
Impact analysis therefore always walks edges ``target = me → source``
(see ``itsmo.cmdb.impact`` and docs/decisions.md, "CMDB").
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from itsmo.core.models import TimeStampedModel
from itsmo.core.scoping import ScopedManager, ScopedQuerySet
from itsmo.core.states import StateMachine, Transition

NUMBER_PREFIX = "CI"


class AttributeType(models.TextChoices):
    STRING = "string", _("Text")
    INTEGER = "integer", _("Integer")
    DECIMAL = "decimal", _("Decimal")
    BOOLEAN = "boolean", _("Yes/no")
    DATE = "date", _("Date")
    IP = "ip", _("IP address")
    CHOICE = "choice", _("Choice")


class CIClass(TimeStampedModel):
    """A kind of CI (server, handheld, WAN link…). Subclasses inherit their parent's attributes."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent class"),
    )
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("CI class")
        verbose_name_plural = _("CI classes")

    def __str__(self) -> str:
        return self.name

    def lineage(self) -> list[CIClass]:
        """This class and its ancestors, root first (cycle-safe)."""
        chain: list[CIClass] = []
        seen: set[int] = set()
        node: CIClass | None = self
        while node is not None and node.pk not in seen:
            seen.add(node.pk)
            chain.append(node)
            node = node.parent
        return list(reversed(chain))

    def schema(self) -> dict[str, CIAttribute]:
        """Effective declared attributes by name; a subclass overrides a same-named parent one."""
        result: dict[str, CIAttribute] = {}
        for cls in self.lineage():
            for attribute in cls.attributes.all():
                result[attribute.name] = attribute
        return result


class CIAttribute(models.Model):
    """One declared, typed attribute of a CI class."""

    ci_class = models.ForeignKey(CIClass, on_delete=models.CASCADE, related_name="attributes")
    name = models.SlugField(
        _("name"), max_length=60, help_text=_("Key in the CI's attributes (lower_snake_case).")
    )
    label = models.CharField(_("label"), max_length=100)
    type = models.CharField(
        _("type"), max_length=10, choices=AttributeType.choices, default=AttributeType.STRING
    )
    is_required = models.BooleanField(_("required"), default=False)
    choices = models.JSONField(
        _("choices"),
        default=list,
        blank=True,
        help_text=_("Allowed values for a choice attribute."),
    )
    help_text = models.CharField(_("help text"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["ci_class", "position", "name"]
        verbose_name = _("CI attribute")
        verbose_name_plural = _("CI attributes")
        constraints = [
            models.UniqueConstraint(fields=["ci_class", "name"], name="ci_attribute_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.ci_class}.{self.name}"


class CIStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_OPERATION = "in_operation", _("In operation")
    UNDER_MAINTENANCE = "under_maintenance", _("Under maintenance")
    RETIRED = "retired", _("Retired")


class Environment(models.TextChoices):
    PRODUCTION = "production", _("Production")
    TEST = "test", _("Test")
    DEVELOPMENT = "development", _("Development")


#: CI status transitions; a retired CI may be brought back (discovery saw it again).
CI_LIFECYCLE = StateMachine(
    "status",
    [
        Transition(CIStatus.PLANNED, CIStatus.IN_OPERATION),
        Transition(CIStatus.IN_OPERATION, CIStatus.UNDER_MAINTENANCE),
        Transition(CIStatus.UNDER_MAINTENANCE, CIStatus.IN_OPERATION),
        Transition(
            (CIStatus.PLANNED, CIStatus.IN_OPERATION, CIStatus.UNDER_MAINTENANCE), CIStatus.RETIRED
        ),
        Transition(CIStatus.RETIRED, CIStatus.PLANNED),
        Transition(CIStatus.RETIRED, CIStatus.IN_OPERATION),
    ],
)


class CIQuerySet(ScopedQuerySet):
    def active(self) -> CIQuerySet:
        return self.exclude(status=CIStatus.RETIRED)


class CI(TimeStampedModel):
    """A configuration item. Scoped by its country; a CI without a country is global."""

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    ci_class = models.ForeignKey(
        CIClass, on_delete=models.PROTECT, related_name="cis", verbose_name=_("class")
    )
    serial = models.CharField(_("serial number"), max_length=100, blank=True)
    asset_tag = models.CharField(_("asset tag"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=CIStatus.choices, default=CIStatus.IN_OPERATION
    )
    environment = models.CharField(
        _("environment"), max_length=20, choices=Environment.choices, default=Environment.PRODUCTION
    )
    country = models.ForeignKey(
        "organization.Country",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cis",
        verbose_name=_("country"),
    )
    site = models.ForeignKey(
        "organization.Site",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cis",
        verbose_name=_("site"),
    )
    owner_group = models.ForeignKey(
        "accounts.SupportGroup",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_cis",
        verbose_name=_("owner group"),
    )
    description = models.TextField(_("description"), blank=True)
    discovery_source = models.CharField(_("discovery source"), max_length=100, blank=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)

    scope_country_field = "country"
    objects = ScopedManager.from_queryset(CIQuerySet)()

    class Meta:
        ordering = ["number"]
        verbose_name = _("configuration item")
        verbose_name_plural = _("configuration items")
        indexes = [
            models.Index(fields=["ci_class", "status"], name="cmdb_ci_class_status"),
            models.Index(fields=["serial"], name="cmdb_ci_serial"),
            models.Index(fields=["name"], name="cmdb_ci_name"),
            models.Index(Lower("name"), name="cmdb_ci_name_lower"),
            models.Index(fields=["last_seen_at"], name="cmdb_ci_last_seen"),
        ]
        constraints = [
            # Identity rule, part 1: within a class, a non-empty serial number is unique.
            models.UniqueConstraint(
                fields=["ci_class", "serial"],
                condition=~models.Q(serial=""),
                name="cmdb_ci_unique_class_serial",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    @property
    def is_retired(self) -> bool:
        return self.status == CIStatus.RETIRED

    def api_snapshot(self) -> dict:
        return {
            "id": self.pk,
            "number": self.number,
            "name": self.name,
            "ci_class": self.ci_class.code,
            "serial": self.serial,
            "asset_tag": self.asset_tag,
            "status": self.status,
            "environment": self.environment,
            "country": self.country.code if self.country_id else None,
            "site": self.site.code if self.site_id else None,
            "owner_group": self.owner_group.code if self.owner_group_id else None,
            "description": self.description,
            "discovery_source": self.discovery_source,
            "last_seen_at": self.last_seen_at.isoformat() if self.last_seen_at else None,
            "attributes": self.attributes,
            "version": self.version,
        }


class RelationshipType(models.TextChoices):
    """Forward labels; the inverse (as read from the target) is in ``INVERSE_LABELS``."""

    DEPENDS_ON = "depends_on", _("depends on")
    RUNS_ON = "runs_on", _("runs on")
    CONNECTS_TO = "connects_to", _("connects to")
    CONTAINS = "contains", _("contains")


INVERSE_LABELS = {
    RelationshipType.DEPENDS_ON: _("used by"),
    RelationshipType.RUNS_ON: _("hosts"),
    RelationshipType.CONNECTS_TO: _("connected from"),
    RelationshipType.CONTAINS: _("part of"),
}


class Relationship(models.Model):
    """A directed, typed edge: the source consumes / is made of the target."""

    # No single-column FK indexes: the unique constraint (source, target, type) serves
    # lookups by source, the (target, type, source) index serves lookups by target. Two
    # indexes instead of four on the largest table of the CMDB.
    source = models.ForeignKey(
        CI,
        on_delete=models.CASCADE,
        related_name="outgoing",
        db_index=False,
        verbose_name=_("source"),
    )
    target = models.ForeignKey(
        CI,
        on_delete=models.CASCADE,
        related_name="incoming",
        db_index=False,
        verbose_name=_("target"),
    )
    type = models.CharField(_("type"), max_length=20, choices=RelationshipType.choices)
    discovery_source = models.CharField(_("discovery source"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["source_id", "type", "target_id"]
        verbose_name = _("relationship")
        verbose_name_plural = _("relationships")
        indexes = [
            models.Index(fields=["target", "type", "source"], name="cmdb_rel_target_type"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "target", "type"], name="cmdb_relationship_unique"
            ),
            models.CheckConstraint(
                condition=~models.Q(source=models.F("target")),
                name="cmdb_relationship_no_self_link",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.type} {self.target_id}"

    @property
    def inverse_label(self) -> str:
        return str(INVERSE_LABELS[RelationshipType(self.type)])


class ServiceCI(models.Model):
    """A CI delivers a service."""

    service = models.ForeignKey(
        "catalog.Service",
        on_delete=models.CASCADE,
        related_name="ci_links",
        verbose_name=_("service"),
    )
    ci = models.ForeignKey(
        CI, on_delete=models.CASCADE, related_name="service_links", verbose_name=_("CI")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["service_id", "ci_id"]
        verbose_name = _("service-CI link")
        verbose_name_plural = _("service-CI links")
        constraints = [
            models.UniqueConstraint(fields=["service", "ci"], name="cmdb_service_ci_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.service_id} ← {self.ci_id}"
