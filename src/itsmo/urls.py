from django.contrib import admin
from django.urls import include, path

from itsmo.api.urls import api
from itsmo.web import views as web_views

urlpatterns = [
    path("healthz", web_views.healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("itsmo.accounts.urls")),
    path("cmdb/", include("itsmo.cmdb.urls")),
    path("catalog/", include("itsmo.catalog.urls")),
    path("communications/", include("itsmo.communications.urls")),
    path("incidents/", include("itsmo.incidents.urls")),
    path("problems/", include("itsmo.problems.urls")),
    path("knowledge/", include("itsmo.knowledge.urls")),
    path("changes/", include("itsmo.changes.urls")),
    path("portal/", include("itsmo.portal.urls")),
    path("search/", include("itsmo.search.urls")),
    path("service-levels/", include("itsmo.slm.urls")),
    path("surveys/", include("itsmo.surveys.urls")),
    path("", include("itsmo.web.urls")),
]
