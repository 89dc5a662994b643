"""Users, roles, region scope, support groups and API tokens."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import connection, models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from itsmo.core.models import TimeStampedModel
from itsmo.core.scoping import EVERYTHING, Scope, ScopedManager
from itsmo.organization.models import Country, Region, validate_time_zone


class Role(models.TextChoices):
    END_USER = "end_user", _("End user")
    AGENT = "agent", _("Agent")
    GROUP_MANAGER = "group_manager", _("Group manager")
    PROCESS_OWNER = "process_owner", _("Process owner")
    SMO_ANALYST = "smo_analyst", _("SMO analyst")
    ADMINISTRATOR = "administrator", _("Administrator")


#: Roles whose holders see every region.
GLOBAL_ROLES = frozenset({Role.SMO_ANALYST, Role.ADMINISTRATOR})
#: Roles that work tickets (as opposed to raising them).
STAFF_ROLES = frozenset(Role) - {Role.END_USER}


class User(AbstractUser):
    """A person using Itsmo. Holds one or more roles and a region scope."""

    display_name = models.CharField(_("display name"), max_length=150, blank=True)
    country = models.ForeignKey(
        Country,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        verbose_name=_("home country"),
    )
    language = models.CharField(
        _("language"), max_length=10, blank=True, choices=settings.LANGUAGES
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, blank=True, validators=[validate_time_zone]
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    job_title = models.CharField(_("job title"), max_length=100, blank=True)
    scope_all = models.BooleanField(_("sees all regions"), default=False)
    scope_regions = models.ManyToManyField(
        Region, blank=True, related_name="+", verbose_name=_("visible regions")
    )
    scope_countries = models.ManyToManyField(
        Country, blank=True, related_name="+", verbose_name=_("visible countries")
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @cached_property
    def roles(self) -> frozenset[str]:
        """The granted roles (read once per instance; API token authentication reads them
        with the user)."""
        if self.pk is None:
            return frozenset()
        # A plain statement: every request reads the roles of its user.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT role FROM {RoleGrant._meta.db_table} WHERE user_id = %s", [self.pk]
            )
            return frozenset(role for (role,) in cursor.fetchall())

    def has_role(self, *roles: str) -> bool:
        if self.is_superuser and Role.ADMINISTRATOR in roles:
            return True
        return any(role in self.roles for role in roles)

    @property
    def is_staff_member(self) -> bool:
        return self.is_superuser or bool(set(self.roles) & STAFF_ROLES)

    def role_labels(self) -> list[str]:
        return [str(Role(r).label) for r in sorted(self.roles) if r in Role.values]

    def scope(self) -> Scope:
        return self._scope

    @cached_property
    def _scope(self) -> Scope:
        if self.is_superuser or self.scope_all or set(self.roles) & GLOBAL_ROLES:
            return EVERYTHING
        region_ids = set(self.scope_regions.values_list("pk", flat=True))
        country_ids = set(self.scope_countries.values_list("pk", flat=True))
        if self.country_id:
            country_ids.add(self.country_id)
        country_ids |= set(
            Country.objects.filter(region__in=region_ids).values_list("pk", flat=True)
        )
        touched_regions = set(
            Country.objects.filter(pk__in=country_ids).values_list("region_id", flat=True)
        )
        return Scope(False, frozenset(country_ids), frozenset(region_ids | touched_regions))

    def forget_scope(self) -> None:
        self.__dict__.pop("_scope", None)
        self.__dict__.pop("roles", None)


class RoleGrant(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_grants"
    )
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)

    class Meta:
        ordering = ["role"]
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="role_grant_unique")]

    def __str__(self) -> str:
        return self.get_role_display()


class Tier(models.TextChoices):
    L1 = "l1", _("L1 service desk")
    L2 = "l2", _("L2 specialist")
    L3 = "l3", _("L3 vendor / engineering")
    FIELD = "field", _("Field services")


class SupportGroup(TimeStampedModel):
    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=150, unique=True)
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices)
    region = models.ForeignKey(
        Region,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="support_groups",
        help_text=_("Empty for a company-wide group."),
    )
    country = models.ForeignKey(
        Country, null=True, blank=True, on_delete=models.PROTECT, related_name="support_groups"
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_groups",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="support_groups"
    )
    email = models.EmailField(_("e-mail"), blank=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    scope_country_field = "country"
    scope_region_field = "region"
    scope_unscoped_is_global = True
    objects = ScopedManager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("support group")
        verbose_name_plural = _("support groups")

    def __str__(self) -> str:
        return self.name


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def usable(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the secret is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > timezone.now()
        )
