"""API for the signed-in user, users, support groups and personal tokens."""

from __future__ import annotations

from ninja import Router, Schema

router = Router(tags=["accounts"])


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
        id=user.pk, username=user.username, display_name=str(user), email=user.email,
        roles=sorted(user.roles), country=user.country.code if user.country else None,
        language=user.language, time_zone=user.time_zone,
        sees_all_regions=user.scope().is_global,
    )
