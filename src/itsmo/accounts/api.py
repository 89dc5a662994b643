"""API for the signed-in user, users, support groups and personal tokens."""

from datetime import datetime

from django.db.models import Q, QuerySet
from django.http import HttpResponse
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from itsmo.api.helpers import aware, lookup, lookup_optional, require_role
from itsmo.api.pagination import PagePagination
from itsmo.core import registry
from itsmo.core.errors import NotFound, PermissionDenied
from itsmo.organization.models import Country, Region

from . import services
from .models import ApiToken, Role, SupportGroup, Tier, User

router = Router(tags=["accounts"])


def visible_users(viewer) -> QuerySet[User]:
    """Staff roles see the directory of users; anyone else sees only themselves."""
    if viewer is None or not getattr(viewer, "is_authenticated", False) or not viewer.is_active:
        return User.objects.none()
    if viewer.is_staff_member:
        return User.objects.all()
    return User.objects.filter(pk=viewer.pk)


registry.register("user", User, visible=visible_users)
registry.register("support-group", SupportGroup)


def _require_staff(user) -> None:
    if not user.is_staff_member:
        raise PermissionDenied("only staff roles may read this")


# The signed-in user


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    email: str
    roles: list[str]
    country: str | None
    language: str
    time_zone: str
    sees_all_regions: bool


@router.get("/me", response=MeOut, summary="The signed-in user")
def me(request):
    user = request.user
    return MeOut(
        id=user.pk,
        username=user.username,
        display_name=str(user),
        email=user.email,
        roles=sorted(user.roles),
        country=user.country.code if user.country else None,
        language=user.language,
        time_zone=user.time_zone,
        sees_all_regions=user.scope().is_global,
    )


# Users


class CountryRef(Schema):
    id: int
    code: str
    name: str


class RegionRef(Schema):
    id: int
    code: str
    name: str


class UserRef(Schema):
    id: int
    username: str
    display_name: str

    @staticmethod
    def resolve_display_name(obj) -> str:
        return str(obj)


class UserOut(Schema):
    id: int
    username: str
    display_name: str
    email: str
    job_title: str
    phone: str
    country: CountryRef | None
    language: str
    time_zone: str
    roles: list[Role]
    is_active: bool

    @staticmethod
    def resolve_display_name(obj) -> str:
        return str(obj)

    @staticmethod
    def resolve_roles(obj) -> list[str]:
        return sorted(grant.role for grant in obj.role_grants.all())


class UserDetailOut(UserOut):
    support_groups: list[str] = Field(description="codes of the groups you may see")

    @staticmethod
    def resolve_support_groups(obj, context) -> list[str]:
        groups = SupportGroup.objects.visible_to(context["request"].user).filter(members=obj)
        return list(groups.values_list("code", flat=True))


@router.get("/users", response=list[UserOut], summary="Users (staff roles)")
@paginate(PagePagination)
def list_users(request, role: Role | None = None, country: str | None = None, q: str | None = None):
    """`role`: a role; `country`: an ISO country code; `q`: part of a name, login or e-mail."""
    _require_staff(request.user)
    users = visible_users(request.user).select_related("country").prefetch_related("role_grants")
    if role:
        users = users.filter(role_grants__role=role)
    if country:
        users = users.filter(country__code__iexact=country)
    if q:
        users = users.filter(
            Q(username__icontains=q)
            | Q(display_name__icontains=q)
            | Q(first_name__icontains=q)
            | Q(last_name__icontains=q)
            | Q(email__icontains=q)
        )
    return users.distinct()


@router.get("/users/{user_id}", response=UserDetailOut, summary="A user (staff roles)")
def get_user(request, user_id: int):
    _require_staff(request.user)
    return registry.get_visible("user", user_id, request.user)


# Support groups


class SupportGroupOut(Schema):
    id: int
    code: str
    name: str
    tier: Tier
    region: RegionRef
    country: CountryRef | None
    manager: UserRef | None
    email: str
    description: str
    is_active: bool
    version: int


class SupportGroupDetailOut(SupportGroupOut):
    members: list[UserRef]

    @staticmethod
    def resolve_members(obj) -> list:
        return list(obj.members.all())


class SupportGroupIn(Schema):
    code: str = Field(min_length=1, max_length=60, pattern=r"^[-a-zA-Z0-9_]+$")
    name: str = Field(min_length=1, max_length=150)
    tier: Tier
    region: str = Field(description="region code")
    country: str | None = Field(None, description="ISO country code, within the region")
    manager: str | None = Field(None, description="username")
    members: list[str] = Field(default_factory=list, description="usernames")
    email: str = ""
    description: str = ""


def _visible_groups(user) -> QuerySet[SupportGroup]:
    return SupportGroup.objects.visible_to(user).select_related("region", "country", "manager")


@router.get("/support-groups", response=list[SupportGroupOut], summary="Support groups")
@paginate(PagePagination)
def list_support_groups(
    request, tier: Tier | None = None, region: str | None = None, country: str | None = None
):
    """Only the groups of your region scope. `region`: a region code; `country`: ISO code."""
    groups = _visible_groups(request.user)
    if tier:
        groups = groups.filter(tier=tier)
    if region:
        groups = groups.filter(region__code=region)
    if country:
        groups = groups.filter(country__code__iexact=country)
    return groups


@router.get(
    "/support-groups/{group_id}",
    response=SupportGroupDetailOut,
    summary="A support group with its members",
)
def get_support_group(request, group_id: int):
    group = _visible_groups(request.user).filter(pk=group_id).first()
    if group is None:
        raise NotFound(f"no support group {group_id}")
    return group


@router.post(
    "/support-groups",
    response={201: SupportGroupDetailOut},
    summary="Create a support group (administrators)",
)
def create_support_group(request, payload: SupportGroupIn):
    require_role(
        request.user, Role.ADMINISTRATOR, message="only administrators may manage support groups"
    )
    region = lookup(Region.objects, "region", code=payload.region)
    country = lookup_optional(Country.objects, "country", code__iexact=payload.country)
    manager = lookup_optional(User.objects, "manager", username=payload.manager)
    members = [lookup(User.objects, "members", username=name) for name in payload.members]
    group = services.create_support_group(
        code=payload.code,
        name=payload.name,
        tier=payload.tier,
        region=region,
        country=country,
        manager=manager,
        members=members,
        email=payload.email,
        description=payload.description,
        actor=request.user,
    )
    return Status(201, group)


# Personal API tokens


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    is_usable: bool


class TokenCreatedOut(TokenOut):
    secret: str = Field(description="shown once: store it now, it cannot be read again")


class TokenIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    expires_at: datetime | None = None


@router.get("/tokens", response=list[TokenOut], summary="Your personal API tokens")
@paginate(PagePagination)
def list_tokens(request):
    return ApiToken.objects.filter(user=request.user)


@router.post(
    "/tokens",
    response={201: TokenCreatedOut},
    summary="Issue a personal API token (the secret is returned once)",
)
def create_token(request, payload: TokenIn):
    expires_at = aware(payload.expires_at, request.user)
    token, secret = services.issue_token(request.user, payload.name, expires_at=expires_at)
    token.secret = secret
    return Status(201, token)


@router.delete("/tokens/{token_id}", response={204: None}, summary="Revoke a personal token")
def revoke_token(request, token_id: int):
    services.revoke_token(request.user, token_id)
    return HttpResponse(status=204)
