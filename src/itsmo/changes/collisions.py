"""Collision and blackout checks for a change's planned window.

Two changes collide when their planned windows overlap and they touch the same CI, or CIs
related through the CMDB within :func:`depth` steps in either direction (one depends on,
runs on or is connected to the other): a change to a database server collides with a
change to the application that runs on it. The walk is breadth-first over relationship ids
only, level by level, and stops at :data:`MAX_NEIGHBOURS` CIs (the closest first), so a
core router with half a data centre upstream stays cheap.

A blackout window applies when it is global, or set for a region or country the change
touches: its own country, the countries of its CIs and the countries its impact analysis
found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db.models import Q

from itsmo.cmdb.models import CI, Relationship
from itsmo.organization.models import Country

from .models import ACTIVE_STATES, BlackoutWindow, ChangeCI

DEFAULT_DEPTH = 2
MAX_NEIGHBOURS = 2000


def depth() -> int:
    return int(getattr(settings, "ITSMO_CHANGE_COLLISION_DEPTH", DEFAULT_DEPTH))


@dataclass(frozen=True)
class Collision:
    change: str  # the other change's number
    title: str
    planned_start: datetime
    planned_end: datetime
    ci: str  # the other change's CI
    via: str  # our CI it relates to
    depth: int  # 0: the same CI

    @property
    def reason(self) -> str:
        if self.depth == 0:
            return f"{self.change} changes the same CI {self.ci} in an overlapping window"
        return (
            f"{self.change} changes {self.ci}, {self.depth} relationship step(s) from "
            f"{self.via}, in an overlapping window"
        )

    def as_dict(self) -> dict:
        return {
            "change": self.change,
            "title": self.title,
            "planned_start": self.planned_start.isoformat(),
            "planned_end": self.planned_end.isoformat(),
            "ci": self.ci,
            "via": self.via,
            "depth": self.depth,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Blackout:
    id: int
    name: str
    scope: str
    start_at: datetime
    end_at: datetime

    @property
    def reason(self) -> str:
        return f"blackout window {self.name!r} ({self.scope})"

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "scope": self.scope,
            "start_at": self.start_at.isoformat(),
            "end_at": self.end_at.isoformat(),
            "reason": self.reason,
        }


@dataclass
class ScheduleCheck:
    collisions: list[Collision] = field(default_factory=list)
    blackouts: list[Blackout] = field(default_factory=list)
    #: Set by ``services.schedule_change`` when the move took the change out of its
    #: approved window and so asked for its approvals again.
    approval_requested_again: bool = False

    @property
    def is_clear(self) -> bool:
        return not self.collisions and not self.blackouts

    def reasons(self) -> list[str]:
        return [c.reason for c in self.collisions] + [b.reason for b in self.blackouts]


def neighbours(ci_ids: list[int], max_depth: int | None = None) -> dict[int, tuple[int, int]]:
    """``{ci id: (depth, root ci id)}`` for the CIs and what relates to them in either
    direction within ``max_depth`` steps, the closest first, at most ``MAX_NEIGHBOURS``."""
    max_depth = depth() if max_depth is None else max_depth
    found: dict[int, tuple[int, int]] = {pk: (0, pk) for pk in ci_ids}
    frontier = {pk: pk for pk in ci_ids}
    for level in range(1, max_depth + 1):
        if not frontier or len(found) >= MAX_NEIGHBOURS:
            break
        ids = list(frontier)
        edges = Relationship.objects.filter(Q(source_id__in=ids) | Q(target_id__in=ids))
        next_frontier: dict[int, int] = {}
        for source, target in edges.values_list("source_id", "target_id").order_by():
            for near, far in ((source, target), (target, source)):
                if near in frontier and far not in found and far not in next_frontier:
                    next_frontier[far] = frontier[near]
        for pk in sorted(next_frontier):
            if len(found) >= MAX_NEIGHBOURS:
                break
            found[pk] = (level, next_frontier[pk])
        frontier = {pk: root for pk, root in next_frontier.items() if pk in found}
    return found


def collisions(
    ci_ids: list[int], start: datetime, end: datetime, *, exclude_change: int | None = None
) -> list[Collision]:
    if not ci_ids:
        return []
    near = neighbours(ci_ids)
    links = (
        ChangeCI.objects.filter(
            ci_id__in=list(near),
            change__status__in=sorted(ACTIVE_STATES),
            change__planned_start__lt=end,
            change__planned_end__gt=start,
        )
        .exclude(change_id=exclude_change)
        .values_list(
            "change__number",
            "change__title",
            "change__planned_start",
            "change__planned_end",
            "ci_id",
        )
        .order_by()
    )
    rows = list(links)
    if not rows:
        return []
    ci_ids_seen = {row[4] for row in rows} | {near[row[4]][1] for row in rows}
    numbers = dict(CI.objects.filter(pk__in=ci_ids_seen).values_list("pk", "number"))
    best: dict[str, Collision] = {}
    for number, title, planned_start, planned_end, ci_id in rows:
        level, root = near[ci_id]
        found = Collision(
            change=number,
            title=title,
            planned_start=planned_start,
            planned_end=planned_end,
            ci=numbers.get(ci_id, str(ci_id)),
            via=numbers.get(root, str(root)),
            depth=level,
        )
        current = best.get(number)
        if current is None or (found.depth, found.ci) < (current.depth, current.ci):
            best[number] = found
    return sorted(best.values(), key=lambda c: (c.depth, c.planned_start, c.change))


def blackouts(
    start: datetime, end: datetime, *, country_ids: set[int], region_ids: set[int]
) -> list[Blackout]:
    scope = Q(country__isnull=True, region__isnull=True)
    if country_ids:
        scope |= Q(country_id__in=sorted(country_ids))
    if region_ids:
        scope |= Q(region_id__in=sorted(region_ids), country__isnull=True)
    windows = (
        BlackoutWindow.objects.active()
        .overlapping(start, end)
        .filter(scope)
        .select_related("country", "region")
    )
    return [Blackout(w.pk, w.name, w.scope_label, w.start_at, w.end_at) for w in windows.order_by()]


def touched_countries(change, ci_ids: list[int]) -> tuple[set[int], set[int]]:
    """Country and region ids the change touches: its own, its CIs', its impact's."""
    countries: set[int] = set()
    if change.country_id:
        countries.add(change.country_id)
    if ci_ids:
        countries |= set(
            CI.objects.filter(pk__in=ci_ids, country__isnull=False)
            .values_list("country_id", flat=True)
            .distinct()
        )
    codes = (change.impact_summary or {}).get("countries") or []
    query = Q(pk__in=sorted(countries))
    if codes:
        query |= Q(code__in=codes)
    rows = list(Country.objects.filter(query).values_list("pk", "region_id"))
    return {pk for pk, _ in rows}, {region for _, region in rows}


def check(change, start: datetime, end: datetime) -> ScheduleCheck:
    """What stands in the way of ``change`` running from ``start`` to ``end``."""
    ci_ids = list(change.ci_links.values_list("ci_id", flat=True)) if change.pk else []
    country_ids, region_ids = touched_countries(change, ci_ids)
    return ScheduleCheck(
        collisions=collisions(ci_ids, start, end, exclude_change=change.pk),
        blackouts=blackouts(start, end, country_ids=country_ids, region_ids=region_ids),
    )
