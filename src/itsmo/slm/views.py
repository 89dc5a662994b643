"""Service-level pages: the SLA and OLA definitions (read by staff, written by
administrators and process owners) and the compliance report.

Views parse a form, call ``services``, render. The report reads ``services.compliance``
scoped to the incidents the reader may see.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied as Forbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from itsmo.accounts.decorators import staff_required
from itsmo.accounts.models import Role, SupportGroup
from itsmo.catalog.models import Service
from itsmo.core import journal
from itsmo.core.errors import DomainError, StaleVersion
from itsmo.core.forms import add_domain_error
from itsmo.incidents.models import Priority, Status
from itsmo.organization import services as organization
from itsmo.organization.models import BusinessCalendar, Country, Region, WorkingPeriod

from . import services
from .forms import GROUP_BY, CalendarExceptionForm, ComplianceForm, DefinitionForm
from .models import DefinitionKind, SLADefinition

#: Who may define SLAs (``services`` enforces it; the pages hide what others cannot do).
EDITORS = (Role.ADMINISTRATOR, Role.PROCESS_OWNER)


def _may_edit(user) -> bool:
    return user.has_role(*EDITORS)


@staff_required
@require_GET
def definition_list(request):
    definitions = SLADefinition.objects.select_related(
        "service", "country", "region", "business_unit", "support_group", "calendar"
    ).order_by("-is_active", "kind", "priority", "name")
    definitions = list(definitions)
    for definition in definitions:
        definition.pause_labels = [
            str(Status(state).label) for state in definition.pause_states if state in Status.values
        ]
    return render(
        request,
        "slm/definition_list.html",
        {"definitions": definitions, "may_edit": _may_edit(request.user)},
    )


@staff_required
@require_http_methods(["GET", "POST"])
def definition_new(request):
    if not _may_edit(request.user):
        raise Forbidden
    form = DefinitionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            definition = services.create_definition(actor=request.user, **form.values())
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Definition “%(name)s” created.") % {"name": definition})
            return redirect("slm:definitions")
    status = 422 if request.method == "POST" else 200
    return render(
        request, "slm/definition_form.html", {"form": form, "definition": None}, status=status
    )


@staff_required
@require_http_methods(["GET", "POST"])
def definition_edit(request, pk: int):
    definition = get_object_or_404(SLADefinition, pk=pk)
    may_edit = _may_edit(request.user)
    if request.method == "POST" and not may_edit:
        raise Forbidden
    form = DefinitionForm(request.POST or None, definition=definition)
    if not may_edit:
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            version = int(request.POST.get("version") or 0) or None
            services.update_definition(
                definition, actor=request.user, version=version, **form.changes()
            )
        except StaleVersion:
            form.add_error(
                None,
                _("Someone else changed this definition meanwhile. Reload it to see their change."),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Definition “%(name)s” saved.") % {"name": definition})
            return redirect("slm:definitions")
    status = 422 if request.method == "POST" else 200
    context = {
        "form": form,
        "definition": definition,
        "may_edit": may_edit,
        "timeline": journal.timeline(definition),
    }
    return render(request, "slm/definition_form.html", context, status=status)


def _labels(dimension: str, ids: set) -> dict:
    """Display names of the ids a compliance row holds for ``dimension``."""
    ids = {i for i in ids if i is not None}
    if dimension == "priority":
        return {value: label for value, label in Priority.choices}
    model = {
        "service": Service,
        "group": SupportGroup,
        "country": Country,
        "region": Region,
        "definition": SLADefinition,
    }.get(dimension)
    if model is None or not ids:
        return {}
    return {obj.pk: str(obj) for obj in model.objects.filter(pk__in=ids)}


@staff_required
@require_GET
def compliance(request):
    form = ComplianceForm(request.GET)
    report = form.report()
    dimension = report["group_by"]
    rows = services.compliance(
        report["start"],
        report["end"],
        group_by=[dimension],
        kind=report["kind"],
        metric=report["metric"],
        user=request.user,
    )
    labels = _labels(dimension, {row[dimension] for row in rows})
    for row in rows:
        value = row[dimension]
        if value is None:
            row["label"] = _("(none)")
        elif dimension == "month":
            row["label"] = value
        else:
            row["label"] = labels.get(value, value)
        row["percent"] = None if row["compliance"] is None else round(100 * row["compliance"], 1)
    if dimension not in ("priority", "month"):  # names read best in alphabetical order
        rows.sort(key=lambda row: str(row["label"]).casefold())
    total = sum(row["total"] for row in rows)
    met = sum(row["met"] for row in rows)
    context = {
        "form": form,
        "report": report,
        "rows": rows,
        "dimension_label": dict(GROUP_BY)[dimension],
        "is_month": dimension == "month",
        "total": total,
        "met": met,
        "breached": total - met,
        "overall": round(100 * met / total, 1) if total else None,
        "is_ola": report["kind"] == DefinitionKind.OLA,
    }
    return render(request, "slm/compliance.html", context)


# -- business calendars -------------------------------------------------------------------------

#: How far ahead a calendar page lists the days off.
DAYS_OFF_AHEAD = 365


def _week_summary(calendar: BusinessCalendar) -> list[str]:
    """The working week in a few words: runs of weekdays with the same hours share one
    entry (``Mon-Fri 08:00-18:00``, with en dashes); closed days are left out."""
    hours: dict[int, str] = {}
    for period in calendar.working_periods.all():
        span = f"{period.start:%H:%M}–{period.end:%H:%M}"  # noqa: RUF001
        known = hours.get(period.weekday)
        hours[period.weekday] = f"{known}, {span}" if known else span
    summary, weekday = [], 0
    while weekday < 7:
        if weekday not in hours:
            weekday += 1
            continue
        last = weekday
        while last + 1 < 7 and hours.get(last + 1) == hours[weekday]:
            last += 1
        days = str(WEEKDAYS_ABBR[weekday])
        if last > weekday:
            days += f"–{WEEKDAYS_ABBR[last]}"  # noqa: RUF001
        summary.append(f"{days} {hours[weekday]}")
        weekday = last + 1
    return summary


@staff_required
@require_GET
def calendar_list(request):
    calendars = list(
        BusinessCalendar.objects.prefetch_related(
            "working_periods", "countries", "exceptions"
        ).order_by("name")
    )
    for calendar in calendars:
        calendar.week_summary = _week_summary(calendar)
    return render(request, "slm/calendar_list.html", {"calendars": calendars})


def _weekly(calendar: BusinessCalendar) -> list[dict]:
    """Each weekday with its working periods (an empty list: closed)."""
    labels = dict(WorkingPeriod._meta.get_field("weekday").choices)
    days = [{"label": labels[weekday], "periods": []} for weekday in range(7)]
    for period in calendar.working_periods.all():
        days[period.weekday]["periods"].append(period)
    return days


@staff_required
@require_http_methods(["GET", "POST"])
def calendar_detail(request, pk: int):
    calendar = get_object_or_404(BusinessCalendar, pk=pk)
    may_edit = request.user.has_role(Role.ADMINISTRATOR)
    if request.method == "POST" and not may_edit:
        raise Forbidden
    form = CalendarExceptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organization.add_calendar_exception(calendar, actor=request.user, **form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error, prefix="exception.")
        else:
            messages.success(
                request,
                _("%(date)s added to the calendar.")
                % {"date": form.cleaned_data["date"].isoformat()},
            )
            return redirect("slm:calendar", calendar.pk)
    today = timezone.localdate()
    context = {
        "calendar": calendar,
        "weekly": _weekly(calendar),
        "days_off": organization.days_off(
            calendar, today, today + dt.timedelta(days=DAYS_OFF_AHEAD)
        ),
        "countries": calendar.countries.order_by("name"),
        "form": form,
        "may_edit": may_edit,
        "timeline": journal.timeline(calendar),
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "slm/calendar_detail.html", context, status=status)


@staff_required
@require_POST
def calendar_exception_remove(request, pk: int, day: str):
    calendar = get_object_or_404(BusinessCalendar, pk=pk)
    if not request.user.has_role(Role.ADMINISTRATOR):
        raise Forbidden
    try:
        organization.remove_calendar_exception(
            calendar, dt.date.fromisoformat(day), actor=request.user
        )
    except (DomainError, ValueError) as error:
        messages.error(request, getattr(error, "message", str(error)))
    else:
        messages.success(request, _("%(date)s removed from the calendar.") % {"date": day})
    return redirect("slm:calendar", calendar.pk)
