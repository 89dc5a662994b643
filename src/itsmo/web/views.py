from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from itsmo.organization.models import Country, Region

from . import navigation


@never_cache
def healthz(request):
    """Liveness and database reachability for load balancers and monitors."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        return JsonResponse({"status": "error", "database": str(error)}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@login_required
def home(request):
    scope = request.user.scope()
    context = {
        "scope_is_global": scope.is_global,
        "scope_regions": Region.objects.filter(pk__in=scope.region_ids).order_by("name"),
        "scope_countries": Country.objects.filter(pk__in=scope.country_ids).order_by("name"),
    }
    return render(request, "web/home.html", context)


@login_required
def soon(request, area: str):
    """The honest page of an area that is not built yet."""
    entry = navigation.get_entry(area)
    if entry is None:
        raise Http404(area)
    if entry.is_available:
        return redirect(entry.url())
    return render(request, "web/soon.html", {"entry": entry})
