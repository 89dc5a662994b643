"""API for regions, countries, sites, business units and business calendars."""

from __future__ import annotations

from ninja import Router, Schema

from .models import Region

router = Router(tags=["organization"])


class RegionOut(Schema):
    id: int
    code: str
    name: str


@router.get("/regions", response=list[RegionOut], summary="Regions")
def list_regions(request):
    return Region.objects.all()
