"""Region scoping: the one queryset choke point, ``visible_to(user)``.

Every list, detail, search, export, API call and report asks its queryset for
``visible_to(user)``. A model says where its scope lives with two class attributes:

    scope_country_field = "country"   # path to an organization.Country FK
    scope_region_field = "region"     # path to an organization.Region FK

A record with a country is visible to users who may see that country. A record with
only a region (a regional service desk, say) is visible to users who may see any
country of that region. Users with a global scope (SMO analysts, administrators,
or an explicit grant) see everything; anonymous users see nothing. A model that sets
``scope_unscoped_is_global = True`` makes its records with neither country nor region
(company-wide support groups, say) visible to every signed-in user.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.db.models import Q


@dataclass(frozen=True)
class Scope:
    is_global: bool
    country_ids: frozenset[int] = frozenset()
    region_ids: frozenset[int] = frozenset()

    def allows(self, country_id: int | None, region_id: int | None = None) -> bool:
        if self.is_global:
            return True
        if country_id is not None:
            return country_id in self.country_ids
        return region_id is not None and region_id in self.region_ids


NOTHING = Scope(is_global=False)
EVERYTHING = Scope(is_global=True)


def scope_of(user) -> Scope:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOTHING
    return user.scope()


class ScopedQuerySet(models.QuerySet):
    def visible_to(self, user) -> ScopedQuerySet:
        scope = scope_of(user)
        if scope.is_global:
            return self.all()
        country_field = getattr(self.model, "scope_country_field", None)
        region_field = getattr(self.model, "scope_region_field", None)
        condition = Q(pk__in=[])
        if country_field:
            condition |= Q(**{f"{country_field}__in": scope.country_ids})
        if region_field:
            regional = Q(**{f"{region_field}__in": scope.region_ids})
            if country_field:
                regional &= Q(**{f"{country_field}__isnull": True})
            condition |= regional
        if getattr(self.model, "scope_unscoped_is_global", False):
            # Records tied to no country and no region (company-wide) are visible to all.
            unscoped = Q()
            for path in (country_field, region_field):
                if path:
                    unscoped &= Q(**{f"{path}__isnull": True})
            condition |= unscoped
        return self.filter(condition)


ScopedManager = models.Manager.from_queryset(ScopedQuerySet)
