"""CMDB pages: CI list, CI page, impact graph, CMDB health, edit and retire.

Views parse, ask a ``visible_to`` queryset or a service, render. A CI of a region the user
may not see is a 404, like a CI that does not exist.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from itsmo.core import journal
from itsmo.core.errors import DomainError, NotFound, StaleVersion
from itsmo.core.scoping import scope_of
from itsmo.organization.models import Country

from . import graph, health, impact, services
from .forms import CIFilterForm, CIForm
from .models import CI, CI_LIFECYCLE, INVERSE_LABELS, CIClass, CIStatus, RelationshipType, ServiceCI

PAGE_SIZE = 50
RELATED_LIMIT = 100
STALE_CHOICES = (7, 30, 90, 180, 365)
HEALTH_LIMIT = 50


def _require_staff(request) -> None:
    if not request.user.is_staff_member:
        raise PermissionDenied


def _get_ci(request, pk: int) -> CI:
    try:
        return services.get_ci(pk, request.user)
    except NotFound:
        raise Http404 from None


@login_required
def ci_list(request):
    _require_staff(request)
    form = CIFilterForm(request.GET or None)
    cis = CI.objects.visible_to(request.user).select_related(
        "ci_class", "country", "site", "owner_group"
    )
    if form.is_valid():
        data = form.cleaned_data
        if data["ci_class"]:
            cis = cis.filter(ci_class=data["ci_class"])
        if data["status"]:
            cis = cis.filter(status=data["status"])
        if data["country"]:
            cis = cis.filter(country=data["country"])
        if data["service"]:
            cis = cis.filter(service_links__service=data["service"])
        if data["q"]:
            text = data["q"].strip()
            cis = cis.filter(
                Q(name__icontains=text)
                | Q(number__iexact=text)
                | Q(serial__iexact=text)
                | Q(asset_tag__iexact=text)
            )
    page = Paginator(cis.order_by("number"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "cmdb/ci_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "is_filtered": form.is_bound and any(v for k, v in request.GET.items() if k != "page"),
        },
    )


def _attribute_rows(ci: CI) -> list[dict]:
    schema = ci.ci_class.schema()
    values = dict(ci.attributes or {})
    rows = []
    for name, attribute in sorted(
        schema.items(),
        key=lambda item: (item[1].ci_class_id != ci.ci_class_id, item[1].position, item[0]),
    ):
        value = values.pop(name, None)
        if attribute.type == "choice" and value is not None:
            value = str(value).replace("_", " ")
        rows.append(
            {
                "label": attribute.label,
                "value": value,
                "type": attribute.type,
                "help": attribute.help_text,
            }
        )
    rows.extend(
        {"label": name, "value": value, "type": "undeclared"}
        for name, value in sorted(values.items())
    )
    return rows


def _relationship_rows(ci: CI, user, *, outgoing: bool) -> tuple[list[dict], int]:
    scope = scope_of(user)
    if outgoing:
        links = ci.outgoing.select_related("target", "target__ci_class")
    else:
        links = ci.incoming.select_related("source", "source__ci_class")
    total = links.count()
    rows = []
    for link in links.order_by("type", "pk")[:RELATED_LIMIT]:
        other = link.target if outgoing else link.source
        label = (
            RelationshipType(link.type).label
            if outgoing
            else INVERSE_LABELS[RelationshipType(link.type)]
        )
        rows.append(
            {
                "label": label,
                "type": link.type,
                "other": other,
                "is_visible": scope.allows(other.country_id),
            }
        )
    return rows, total


@login_required
def ci_detail(request, pk: int):
    _require_staff(request)
    ci = _get_ci(request, pk)
    outgoing, outgoing_total = _relationship_rows(ci, request.user, outgoing=True)
    incoming, incoming_total = _relationship_rows(ci, request.user, outgoing=False)
    linked = ServiceCI.objects.filter(ci=ci).select_related("service").order_by("service__name")
    entries = list(journal.timeline(ci).order_by("-occurred_at", "-id")[:100])
    return render(
        request,
        "cmdb/ci_detail.html",
        {
            "ci": ci,
            "attributes": _attribute_rows(ci),
            "outgoing": outgoing,
            "outgoing_total": outgoing_total,
            "incoming": incoming,
            "incoming_total": incoming_total,
            "services": [link.service for link in linked],
            "journal": entries,
            "next_statuses": _next_statuses(ci),
        },
    )


def _next_statuses(ci: CI) -> list[tuple[str, str]]:
    """The statuses the CI lifecycle table allows from here, with their labels."""
    allowed = set(CI_LIFECYCLE.available(ci))
    return [(status, label) for status, label in CIStatus.choices if status in allowed]


def _depth(request) -> int:
    try:
        value = int(request.GET.get("depth", impact.DEFAULT_DEPTH))
    except ValueError:
        value = impact.DEFAULT_DEPTH
    return max(1, min(value, impact.MAX_DEPTH))


@login_required
def ci_impact(request, pk: int):
    _require_staff(request)
    ci = _get_ci(request, pk)
    depth = _depth(request)
    result = impact.impact([ci.pk], depth=depth, user=request.user)
    labels = graph.ImpactLabels(
        root=_("Failed CI"),
        depth=_("Depth {depth}"),
        services=_("Services"),
        processes=_("Business processes"),
        countries=_("Countries"),
        hidden=_("(not visible to you)"),
        relation_labels=[
            ("depends_on", _("depends on")),
            ("runs_on", _("runs on")),
            ("connects_to", _("connects to")),
            ("contains", _("contains")),
            ("delivers", _("delivers the service")),
            ("supports", _("supports the process")),
            ("located", _("in the country")),
        ],
    )
    class_names = dict(CIClass.objects.values_list("code", "name"))
    country_names = dict(Country.objects.values_list("code", "name"))
    drawing = graph.impact_graph(
        result,
        labels=labels,
        class_names=class_names,
        country_names=country_names,
        ci_url=lambda i: reverse("cmdb:impact", args=[i]),
        service_url=lambda i: reverse("catalog:service", args=[i]),
        process_url=lambda i: reverse("catalog:process", args=[i]),
    )
    svg = graph.render_svg(
        drawing,
        title=_("Impact of %(name)s") % {"name": ci.name},
        more_label=lambda n: _("…and %(count)s more") % {"count": n},
        empty_label=_("Nothing depends on this CI."),
    )
    affected = [
        {"node": node, "class_name": class_names.get(node.ci_class, node.ci_class)}
        for node in result.cis
        if node.id != ci.pk
    ]
    return render(
        request,
        "cmdb/ci_impact.html",
        {
            "ci": ci,
            "result": result,
            "svg": mark_safe(svg),  # graph.py escapes every text
            "depth": depth,
            "depth_choices": [1, 2, 3, 5, 8, 10, 15, 25],
            "affected": affected[:100],
            "affected_total": max(result.total - 1, 0),
        },
    )


@login_required
def ci_edit(request, pk: int):
    _require_staff(request)
    ci = _get_ci(request, pk)
    form = CIForm(request.POST or None, ci=ci, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_ci(
                ci, actor=request.user, version=form.cleaned_data["version"], **form.changes()
            )
        except StaleVersion:
            form.add_error(
                None,
                _(
                    "Someone else changed this CI while you were editing it. "
                    "Reload the page to see their changes, then edit again."
                ),
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, _("%(number)s saved.") % {"number": ci.number})
            return redirect("cmdb:detail", pk=ci.pk)
    return render(request, "cmdb/ci_edit.html", {"ci": ci, "form": form})


@login_required
@require_POST
def ci_retire(request, pk: int):
    _require_staff(request)
    ci = _get_ci(request, pk)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = None
    try:
        services.retire_ci(
            ci, actor=request.user, version=version, note=request.POST.get("note", "")[:500]
        )
    except StaleVersion:
        messages.error(
            request,
            _(
                "Someone else changed this CI in the meantime; nothing was "
                "retired. Check the page and try again."
            ),
        )
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("%(number)s is retired.") % {"number": ci.number})
    return redirect("cmdb:detail", pk=ci.pk)


@login_required
def health_view(request):
    _require_staff(request)
    try:
        days = int(request.GET.get("days", health.DEFAULT_STALE_DAYS))
    except ValueError:
        days = health.DEFAULT_STALE_DAYS
    days = max(1, min(days, 3650))
    stale = health.stale_cis(days, user=request.user).select_related("ci_class", "country", "site")
    orphans = health.orphan_cis(user=request.user).select_related("ci_class", "country", "site")
    groups = health.duplicate_candidates(user=request.user, limit=50)
    ids = {pk for group in groups for pk in group.ci_ids}
    by_id = (
        CI.objects.visible_to(request.user)
        .select_related("ci_class", "country", "site")
        .in_bulk(ids)
    )
    duplicates = [
        {
            "reason": group.reason,
            "key": group.key,
            "cis": [by_id[pk] for pk in group.ci_ids if pk in by_id],
        }
        for group in groups
    ]
    return render(
        request,
        "cmdb/health.html",
        {
            "days": days,
            "day_choices": sorted({*STALE_CHOICES, days}),
            "stale": stale[:HEALTH_LIMIT],
            "stale_total": stale.count(),
            "orphans": orphans[:HEALTH_LIMIT],
            "orphans_total": orphans.count(),
            "duplicates": duplicates,
            "limit": HEALTH_LIMIT,
        },
    )
