"""Service portfolio pages: services, business processes and the self-service portal catalogue.

The portfolio is reference data every signed-in user may read. The CIs behind a service
(its dependency tree) are shown to staff only, scoped to what they may see.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from itsmo.cmdb import graph, impact
from itsmo.cmdb.models import CIClass
from itsmo.organization.models import Country

from .models import (
    BusinessProcess,
    Lifecycle,
    RequestOffering,
    Service,
    ServiceKind,
    ServiceProcess,
)

DEPENDENCY_DEPTH = 6


@login_required
def service_list(request):
    kind = request.GET.get("kind", "")
    lifecycle = request.GET.get("lifecycle", "")
    text = request.GET.get("q", "").strip()
    services = (
        Service.objects.select_related("owner", "support_group")
        .prefetch_related("countries")
        .annotate(
            process_count=Count("process_links", distinct=True),
            ci_count=Count("ci_links", distinct=True),
        )
    )
    if kind in ServiceKind.values:
        services = services.filter(kind=kind)
    if lifecycle in Lifecycle.values:
        services = services.filter(lifecycle=lifecycle)
    if text:
        services = services.filter(Q(name__icontains=text) | Q(code__icontains=text))
    return render(
        request,
        "catalog/service_list.html",
        {
            "services": services.order_by("kind", "criticality", "name"),
            "kind": kind,
            "lifecycle": lifecycle,
            "q": text,
            "kinds": ServiceKind.choices,
            "lifecycles": Lifecycle.choices,
            "country_total": Country.objects.count(),
        },
    )


def _dependency_graph(service: Service, result: impact.DependencyResult) -> str:
    """The service on the left, the CIs it stands on by depth, the services they deliver."""
    class_names = dict(CIClass.objects.values_list("code", "name"))
    drawing = graph.Graph(layers={0: _("Service"), 1: _("Its CIs")})
    drawing.nodes.append(
        graph.Node(
            id="service",
            label=service.name,
            layer=0,
            kind="service",
            sublabel=service.get_kind_display(),
        )
    )
    max_depth = 0
    explaining = {step.id for other in result.services for step in other.path}
    for ci in result.cis:
        layer = ci.depth + 1
        max_depth = max(max_depth, layer)
        drawing.nodes.append(
            graph.Node(
                id=f"ci-{ci.id}",
                label=ci.name if ci.is_visible else _("(not visible to you)"),
                layer=layer,
                kind="ci" if ci.is_visible else "hidden",
                sublabel=" · ".join(
                    filter(None, [ci.number, class_names.get(ci.ci_class, ""), ci.country or ""])
                ),
                url=reverse("cmdb:detail", args=[ci.id]) if ci.is_visible else None,
                priority=0 if ci.id in explaining else 1,
            )
        )
        if ci.depth == 0:
            drawing.edges.append(graph.Edge("service", f"ci-{ci.id}", "delivers"))
        for parent_id, relation in ci.parents:
            drawing.edges.append(graph.Edge(f"ci-{parent_id}", f"ci-{ci.id}", relation or ""))
    for depth in range(2, max_depth + 1):
        drawing.layers[depth] = _("Depth {depth}").format(depth=depth - 1)
    service_layer = max_depth + 1
    if result.services:
        drawing.layers[service_layer] = _("Depends on services")
    for other in result.services:
        drawing.nodes.append(
            graph.Node(
                id=f"service-{other.id}",
                label=other.name,
                layer=service_layer,
                kind="service",
                sublabel=str(ServiceKind(other.kind).label),
                url=reverse("catalog:service", args=[other.id]),
            )
        )
        for ci_id in other.via[:3]:
            drawing.edges.append(graph.Edge(f"ci-{ci_id}", f"service-{other.id}", "delivers"))
    drawing.legend = [
        ("depends_on", _("depends on")),
        ("runs_on", _("runs on")),
        ("connects_to", _("connects to")),
        ("contains", _("contains")),
        ("delivers", _("delivers the service")),
    ]
    return graph.render_svg(
        drawing,
        title=_("What %(name)s depends on") % {"name": service.name},
        max_per_layer=10,
        more_label=lambda n: _("…and %(count)s more") % {"count": n},
        empty_label=_("No configuration item delivers this service yet."),
    )


@login_required
def service_detail(request, pk: int):
    service = get_object_or_404(
        Service.objects.select_related("owner", "support_group", "service_hours").prefetch_related(
            "countries"
        ),
        pk=pk,
    )
    links = service.process_links.select_related("business_process").order_by(
        "-weight", "business_process__name"
    )
    offerings = service.request_offerings.filter(is_active=True).order_by("name")
    context = {
        "service": service,
        "process_links": links,
        "offerings": offerings,
        "is_staff": request.user.is_staff_member,
        "country_total": Country.objects.count(),
    }
    if request.user.is_staff_member:
        try:
            depth = max(1, min(int(request.GET.get("depth", DEPENDENCY_DEPTH)), 15))
        except ValueError:
            depth = DEPENDENCY_DEPTH
        result = impact.service_dependencies(service, depth=depth, user=request.user)
        context.update(
            depth=depth,
            depth_choices=[1, 2, 3, 4, 6, 8, 10, 15],
            dependencies=result,
            svg=mark_safe(_dependency_graph(service, result)),  # graph.py escapes
            own_cis=[ci for ci in result.cis if ci.depth == 0][:100],
            own_total=sum(1 for ci in result.cis if ci.depth == 0),
            class_names=dict(CIClass.objects.values_list("code", "name")),
        )
    return render(request, "catalog/service_detail.html", context)


@login_required
def process_list(request):
    processes = (
        BusinessProcess.objects.select_related("owner")
        .prefetch_related(
            Prefetch(
                "service_links",
                queryset=ServiceProcess.objects.select_related("service").order_by(
                    "-weight", "service__name"
                ),
            )
        )
        .order_by("criticality", "name")
    )
    return render(request, "catalog/process_list.html", {"processes": processes})


@login_required
def process_detail(request, pk: int):
    process = get_object_or_404(BusinessProcess.objects.select_related("owner"), pk=pk)
    links = process.service_links.select_related("service", "service__support_group").order_by(
        "-weight", "service__name"
    )
    return render(request, "catalog/process_detail.html", {"process": process, "links": links})


@login_required
def portal(request):
    offerings = (
        RequestOffering.objects.filter(is_active=True)
        .exclude(service__lifecycle=Lifecycle.RETIRED)
        .select_related("service")
        .order_by("service__name", "name")
    )
    by_service: dict[Service, list[RequestOffering]] = {}
    for offering in offerings:
        by_service.setdefault(offering.service, []).append(offering)
    services = Service.objects.filter(
        is_portal_visible=True, lifecycle=Lifecycle.CATALOGUE
    ).order_by("name")
    return render(
        request,
        "catalog/portal.html",
        {
            "groups": [{"service": s, "offerings": o} for s, o in by_service.items()],
            "services": services,
        },
    )


@login_required
def offering_detail(request, pk: int):
    offering = get_object_or_404(
        RequestOffering.objects.select_related("service", "fulfilment_group"), pk=pk, is_active=True
    )
    return render(request, "catalog/offering_detail.html", {"offering": offering})
