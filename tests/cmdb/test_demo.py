"""The demo CMDB at scale small: the Colombian WAN-link story and the imperfections."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import Lower
from django.utils import timezone

from itsmo.catalog.models import BusinessProcess, RequestOffering, Service
from itsmo.cmdb import impact
from itsmo.cmdb.models import CI, Relationship
from itsmo.core import demo


def test_small_demo_tells_the_colombian_wan_link_story(db):
    ctx = demo.run(seed=demo.DEFAULT_SEED, scale="small", password="demo-password-123")

    # Given the portfolio and about 2,000 CIs
    assert 35 <= Service.objects.count() <= 45
    assert (
        BusinessProcess.objects.filter(
            code__in=["sales", "production", "logistics", "shipping"]
        ).count()
        == 4
    )
    assert RequestOffering.objects.filter(code="new-laptop").exists()
    assert 1_900 <= CI.objects.count() <= 2_100
    assert CI.objects.filter(site__kind="data_centre", country__code__in=["MX", "BR"]).exists()

    # When the WAN link of the Bogotá distribution centre fails
    wan = ctx.data["cmdb_story"]["wan_link"]
    assert wan.name == "WAN MPLS CD Bogotá Norte" and wan.country.code == "CO"
    result = impact.impact([wan.pk])

    # Then the DC's handheld sync server, Handheld Route Sales and Sales in Colombia are hit
    names = {ci.name for ci in result.cis}
    assert "hhs-co-cdbognor-01" in names
    route_sales = next(s for s in result.services if s.code == "route-sales")
    assert route_sales.countries == ["CO"]
    assert [step.name for step in route_sales.path][:2] == [wan.name, "rt-co-cdbognor-01"]
    sales = next(p for p in result.business_processes if p.code == "sales")
    assert sales.countries == ["CO"]
    assert result.countries == ["CO"]


def test_small_demo_has_stale_cis_orphans_and_duplicate_candidates(db):
    demo.run(seed=7, scale="small", password="demo-password-123")
    month_ago = timezone.now() - timedelta(days=30)
    assert CI.objects.filter(last_seen_at__lt=month_ago).count() >= 20
    orphans = CI.objects.filter(
        ~Exists(Relationship.objects.filter(source=OuterRef("pk"))),
        ~Exists(Relationship.objects.filter(target=OuterRef("pk"))),
        service_links__isnull=True,
    )
    assert 5 <= orphans.count() <= 40
    duplicates = (
        CI.objects.annotate(key=Lower("name"))
        .values("ci_class", "key")
        .annotate(n=Count("id"))
        .filter(Q(n__gt=1))
    )
    assert duplicates.count() >= 3
