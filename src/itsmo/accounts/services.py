"""The write path for users, roles, region scope, support groups and API tokens."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import UTC, datetime

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from itsmo.core import config_cache, journal, rows
from itsmo.core.errors import NotFound, PermissionDenied, ValidationFailed
from itsmo.organization.models import Country, Region

from .models import ApiToken, Role, RoleGrant, SupportGroup, Tier, User, hash_token

TOKEN_PREFIX = "itsmo_"


def _require_admin(actor: User | None) -> None:
    if actor is not None and not actor.has_role(Role.ADMINISTRATOR):
        raise PermissionDenied("only administrators may manage users and groups")


@transaction.atomic
def create_user(
    *,
    username: str,
    email: str = "",
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    roles: Iterable[str] = (Role.END_USER,),
    country: Country | None = None,
    language: str = "",
    time_zone: str = "",
    job_title: str = "",
    is_superuser: bool = False,
    actor: User | None = None,
) -> User:
    _require_admin(actor)
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationFailed(f"username {username!r} is taken", field="username")
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        country=country,
        language=language or (country.language if country else ""),
        time_zone=time_zone or (country.time_zone if country else ""),
        job_title=job_title,
        is_superuser=is_superuser,
        is_staff=is_superuser,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    set_roles(user, roles)
    journal.record_created(user, actor)
    return user


def set_roles(user: User, roles: Iterable[str], *, actor: User | None = None) -> None:
    wanted = set(roles)
    unknown = wanted - set(Role.values)
    if unknown:
        raise ValidationFailed(f"unknown role(s): {', '.join(sorted(unknown))}", field="roles")
    with transaction.atomic():
        old = set(user.roles)
        RoleGrant.objects.filter(user=user).exclude(role__in=wanted).delete()
        RoleGrant.objects.bulk_create(
            [RoleGrant(user=user, role=r) for r in wanted - old], ignore_conflicts=True
        )
        user.forget_scope()
        if old != wanted and actor is not None:
            journal.record_changes(user, actor, {"roles": (sorted(old), sorted(wanted))})


@transaction.atomic
def set_scope(
    user: User,
    *,
    regions: Iterable[Region] = (),
    countries: Iterable[Country] = (),
    all_regions: bool = False,
    actor: User | None = None,
) -> None:
    _require_admin(actor)
    user.scope_all = all_regions
    user.save(update_fields=["scope_all"])
    user.scope_regions.set(regions)
    user.scope_countries.set(countries)
    user.forget_scope()


def update_preferences(
    user: User, *, language: str | None = None, time_zone: str | None = None
) -> User:
    from django.conf import settings

    from itsmo.organization.models import validate_time_zone

    fields = []
    if language is not None:
        if language and language not in dict(settings.LANGUAGES):
            raise ValidationFailed(f"unsupported language {language!r}", field="language")
        user.language = language
        fields.append("language")
    if time_zone is not None:
        try:
            if time_zone:
                validate_time_zone(time_zone)
        except ValidationError as error:
            raise ValidationFailed(error.messages[0], field="time_zone") from error
        user.time_zone = time_zone
        fields.append("time_zone")
    if fields:
        user.save(update_fields=fields)
    return user


def change_password(user: User, old_password: str, new_password: str) -> None:
    if not user.check_password(old_password):
        raise ValidationFailed("the current password is wrong", field="old_password")
    try:
        validate_password(new_password, user)
    except ValidationError as error:
        raise ValidationFailed(" ".join(error.messages), field="new_password") from error
    user.set_password(new_password)
    user.save(update_fields=["password"])


@transaction.atomic
def create_support_group(
    *,
    code: str,
    name: str,
    tier: str,
    region: Region | None,
    country: Country | None = None,
    manager: User | None = None,
    members: Iterable[User] = (),
    email: str = "",
    description: str = "",
    actor: User | None = None,
) -> SupportGroup:
    _require_admin(actor)
    if tier not in Tier.values:
        raise ValidationFailed(f"unknown tier {tier!r}", field="tier")
    if country is not None and region is None:
        raise ValidationFailed("a company-wide group has no country", field="country")
    if country is not None and country.region_id != region.pk:
        raise ValidationFailed(f"{country} is not in {region}", field="country")
    if SupportGroup.objects.filter(code=code).exists():
        raise ValidationFailed(f"a group with code {code!r} exists", field="code")
    group = SupportGroup.objects.create(
        code=code,
        name=name,
        tier=tier,
        region=region,
        country=country,
        manager=manager,
        email=email,
        description=description,
    )
    group.members.set(members)
    journal.record_created(group, actor)
    return group


def add_members(group: SupportGroup, users: Iterable[User], *, actor: User | None = None) -> None:
    users = list(users)
    group.members.add(*users)
    if actor is not None:
        journal.add_comment(
            group, actor, "Added " + ", ".join(str(u) for u in users), internal=True
        )


def issue_token(
    user: User, name: str, *, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is never stored nor shown again."""
    if not name.strip():
        raise ValidationFailed("a token needs a name", field="name")
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed("the expiry must be in the future", field="expires_at")
    if expires_at is not None and timezone.is_aware(expires_at):
        # Stored in UTC: PostgreSQL refuses offsets beyond ±15:59 that ISO 8601 allows.
        expires_at = expires_at.astimezone(UTC)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip(),
        prefix=raw[:12],
        token_hash=hash_token(raw),
        expires_at=expires_at,
    )
    return token, raw


def revoke_token(user: User, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(pk=token_id, user=user).first()
    if token is None:
        raise NotFound("no such token")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def authenticate_token(raw: str) -> User | None:
    """The active user of a usable token (not revoked, not expired), else ``None``.

    Every API call comes through here: one kept statement (``core.rows``) reads the user,
    their roles, the token's id and last use, and the configuration token of
    :mod:`itsmo.core.config_cache` (which then needs no read of its own in this request)."""
    now = timezone.now()
    token = connection.ops.quote_name(ApiToken._meta.db_table)
    user_table = connection.ops.quote_name(User._meta.db_table)
    grants = connection.ops.quote_name(RoleGrant._meta.db_table)
    concat = "string_agg" if connection.vendor == "postgresql" else "group_concat"
    found = rows.get_joined(
        User,
        f"t.token_hash = %s AND t.revoked_at IS NULL"
        f" AND (t.expires_at IS NULL OR t.expires_at > %s) AND {user_table}.is_active",
        [hash_token(raw), connection.ops.adapt_datetimefield_value(now)],
        join=f"JOIN {token} t ON t.user_id = {user_table}.id",
        extra=(
            "t.id",
            "t.last_used_at",
            f"(SELECT {concat}(g.role, ',') FROM {grants} g WHERE g.user_id = t.user_id)",
            config_cache.token_column(),
        ),
    )
    if found is None:
        return None
    user, (token_id, last_used_at, roles, config_token) = found
    config_cache.note_token(config_token)
    user.__dict__["roles"] = frozenset(roles.split(",")) if roles else frozenset()
    if last_used_at is not None and not isinstance(last_used_at, datetime):
        last_used_at = parse_datetime(str(last_used_at))  # SQLite hands back text
    if last_used_at is not None and timezone.is_naive(last_used_at):
        last_used_at = timezone.make_aware(last_used_at, UTC)
    if last_used_at is None or (now - last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
    return user
