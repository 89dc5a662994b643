"""Demo CMDB: the estate of Sabores Unidos, wired so that impact analysis tells true stories.

About 2,000 CIs at scale small, 20,000 at medium and 100,000 at large, across the 16
countries: two data centres (Querétaro, Mexico, and Campinas, Brazil) with hosts, VMs,
database instances, SAP application servers and storage; plants with MES servers and PLC
gateways; distribution centres with a local WMS server, a handheld sync server, Wi-Fi and
handhelds; sales branches; a WAN link (or two) per site; and end-user devices everywhere.

The story the demo is built to tell (see tests/cmdb/test_demo.py)::

    WAN MPLS CD Bogotá Norte  ←connects_to—  rt-co-cdbognor-01  ←connects_to—  core switch
      ←connects_to—  hhs-co-cdbognor-01 (handheld sync)  —delivers→  Handheld Route Sales
      —supports→  Sales, in Colombia

**Two write paths, on purpose.** The central business applications and cloud services
(the CIs people look up by name) go through :func:`itsmo.cmdb.services.create_ci` one by
one (validated, identity-checked, journaled). The estate around them (hosts, VMs,
network, fleets: tens of thousands of rows) would take minutes that way on SQLite (about
10 ms per CI and 5 ms per relationship), so :class:`Estate` batches it: attributes are
validated by the same rules (``services.attribute_schema`` and
:func:`itsmo.cmdb.attributes.clean`), serials and names are unique by construction, each CI
gets its number from ``core.numbering`` (one block for the batch) and a "created" journal
entry; relationships and service links are
bulk-inserted (not journaled one by one: they are part of the CI's creation).

A real CMDB is never clean, so neither is this one: some CIs have not been seen by
discovery for months (stale), a few have no relationship and no service (orphans) and a
few pairs look like the same device recorded twice (duplicate candidates).
"""

from __future__ import annotations

import importlib
import itertools
import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from django.apps import apps as django_apps
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django.utils.text import slugify

from itsmo.cmdb import attributes as attribute_rules, services
from itsmo.cmdb.models import CI, CIClass, CIStatus, Environment, Relationship, ServiceCI
from itsmo.core.demo import DemoContext, step
from itsmo.core.models import JournalEntry, JournalKind
from itsmo.core.numbering import next_references
from itsmo.organization.models import SiteKind

TARGET = {"small": 2_000, "medium": 20_000, "large": 100_000}


@dataclass(frozen=True)
class Sizing:
    hosts: int  # hypervisor hosts per data centre
    vms_per_host: int
    switches: int  # access switches per big site
    access_points: int  # per distribution centre or plant
    plc_gateways: int  # per plant


SIZING = {
    "small": Sizing(hosts=4, vms_per_host=3, switches=1, access_points=2, plc_gateways=2),
    "medium": Sizing(hosts=16, vms_per_host=8, switches=3, access_points=8, plc_gateways=8),
    "large": Sizing(hosts=48, vms_per_host=12, switches=8, access_points=24, plc_gateways=20),
}

DEPENDS, RUNS, CONNECTS, CONTAINS = "depends_on", "runs_on", "connects_to", "contains"
STORY_SITE = "CD Bogotá Norte"
STALE_SHARE = 0.04
CARRIERS = {
    "BR": ["Embratel", "Vivo"],
    "MX": ["Telmex", "AT&T"],
    "CO": ["Claro", "UFINET"],
    "AR": ["Telecom", "Claro"],
    "CL": ["Entel", "Movistar"],
}
DEFAULT_CARRIERS = ["Claro", "Lumen", "Movistar"]
SITE_KIND_TAG = {
    SiteKind.DATA_CENTRE: "dc",
    SiteKind.PLANT: "pl",
    SiteKind.DISTRIBUTION_CENTRE: "cd",
    SiteKind.OFFICE: "of",
    SiteKind.SALES_BRANCH: "br",
}
SKIP_WORDS = {
    "cd",
    "planta",
    "fabrica",
    "oficina",
    "escritorio",
    "sucursal",
    "filial",
    "centro",
    "de",
    "datos",
    "data",
    "center",
    "corporativo",
    "ciudad",
}


def site_tag(site) -> str:
    """``cdbognor`` for "CD Bogotá Norte": the kind and the first letters of the place."""
    folded = unicodedata.normalize("NFKD", site.name).encode("ascii", "ignore").decode()
    words = [w for w in re.findall(r"[a-z]+", folded.lower()) if w not in SKIP_WORDS]
    return SITE_KIND_TAG[site.kind] + "".join(w[:3] for w in words[:2])


class Estate:
    """Buffers CIs, relationships and service links and writes them in batches."""

    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.rng = ctx.random
        self.now = timezone.now().replace(microsecond=0)
        self.classes = {c.code: c for c in CIClass.objects.all()}
        self.schemas = {code: services.attribute_schema(c) for code, c in self.classes.items()}
        self.cis: list[CI] = []
        self.relationships: list[tuple[CI, CI, str]] = []
        self.links: list[tuple[object, CI]] = []
        self.serials: dict[str, int] = {}
        self.count = 0

    # --- CIs -----------------------------------------------------------------------------

    def serial(self, prefix: str) -> str:
        number = self.serials.get(prefix, self.rng.randrange(100_000, 400_000))
        self.serials[prefix] = number + self.rng.randrange(1, 40)
        return f"{prefix}{number:08d}"

    def seen(self, *, stale_share: float = STALE_SHARE):
        """A last-seen time: mostly in the last two days, sometimes months ago (stale)."""
        if self.rng.random() < stale_share:
            return self.now - timedelta(
                days=self.rng.randrange(35, 400), minutes=self.rng.randrange(1440)
            )
        return self.now - timedelta(minutes=self.rng.randrange(5, 2 * 1440))

    def ci(
        self,
        class_code: str,
        name: str,
        *,
        site=None,
        country=None,
        serial: str = "",
        attributes: dict | None = None,
        source: str = "",
        group=None,
        status: str = CIStatus.IN_OPERATION,
        environment: str = Environment.PRODUCTION,
        description: str = "",
        seen=True,
    ) -> CI:
        ci_class = self.classes[class_code]
        cleaned = attribute_rules.clean(
            self.schemas[class_code], attributes or {}, class_name=ci_class.name
        )
        ci = CI(
            name=name,
            ci_class=ci_class,
            serial=serial,
            status=status,
            environment=environment,
            site=site,
            country=site.country if site is not None else country,
            owner_group=group,
            discovery_source=source,
            last_seen_at=self.seen() if seen is True else seen,
            attributes=cleaned,
            description=description,
            asset_tag="",
        )
        self.cis.append(ci)
        self.count += 1
        return ci

    def via_service(self, class_code: str, name: str, **values) -> CI:
        """One CI through the CMDB write path (validated, identity-checked, journaled)."""
        self.count += 1
        return services.create_ci(
            actor=None, name=name, ci_class=self.classes[class_code], **values
        )

    def relate(self, source: CI, target: CI, type: str) -> None:
        self.relationships.append((source, target, type))

    def link(self, service, ci: CI) -> None:
        self.links.append((service, ci))

    # --- writing -------------------------------------------------------------------------

    def flush(self, batch: int = 2000) -> None:
        """Write the buffered CIs (with numbers and journal entries), then the edges."""
        for ci, number in zip(self.cis, next_references("CI", len(self.cis)), strict=True):
            ci.number = number
        for start in range(0, len(self.cis), batch):
            CI.objects.bulk_create(self.cis[start : start + batch])
        content_type = ContentType.objects.get_for_model(CI, for_concrete_model=False)
        JournalEntry.objects.bulk_create(
            (
                JournalEntry(
                    content_type=content_type,
                    object_id=ci.pk,
                    kind=JournalKind.CREATED,
                    new_value=str(ci),
                    occurred_at=self.now,
                    recorded_at=self.now,
                )
                for ci in self.cis
            ),
            batch_size=batch,
        )
        seen: set[tuple[int, int, str]] = set()
        rows = []
        for source, target, type in self.relationships:
            key = (source.pk, target.pk, type)
            if source.pk != target.pk and key not in seen:
                seen.add(key)
                rows.append(
                    Relationship(
                        source_id=source.pk,
                        target_id=target.pk,
                        type=type,
                        discovery_source=source.discovery_source,
                    )
                )
        Relationship.objects.bulk_create(rows, batch_size=batch)
        linked: set[tuple[int, int]] = set()
        link_rows = []
        for service, ci in self.links:
            if (service.pk, ci.pk) not in linked:
                linked.add((service.pk, ci.pk))
                link_rows.append(ServiceCI(service_id=service.pk, ci_id=ci.pk))
        ServiceCI.objects.bulk_create(link_rows, batch_size=batch)
        self.cis, self.relationships, self.links = [], [], []


class Builder:
    """Lays out the estate site by site."""

    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.rng = ctx.random
        self.estate = Estate(ctx)
        self.sizing = SIZING[ctx.scale]
        self.services = ctx.data["services"]
        self.groups = ctx.data["groups"]
        self.sites = ctx.data["sites"]
        self.countries = ctx.data["countries"]
        self.region_code = {c.pk: code for code, c in ctx.data["regions"].items()}
        self.site_network: dict[int, dict] = {}
        self.sync_servers: dict[str, list[CI]] = {}
        self.central: dict[str, CI] = {}
        self.story: dict[str, CI] = {}

    def group(self, code: str, country=None):
        if country is not None and f"{code}-{self.region_code[country.region_id]}" in self.groups:
            return self.groups[f"{code}-{self.region_code[country.region_id]}"]
        return self.groups.get(code)

    # --- data centres --------------------------------------------------------------------

    def data_centre(self, site) -> dict[str, list[CI]]:
        e, rng, size = self.estate, self.rng, self.sizing
        tag, cc = site_tag(site), site.country.code.lower()
        dc_group = self.groups["data-centre"]
        network = self.site_network[site.pk]
        ups = [
            e.ci(
                "rack",
                f"UPS {site.name} {n}",
                site=site,
                group=dc_group,
                attributes={"equipment_type": "ups", "capacity_kva": 160},
                source="snmp",
                serial=e.serial("UPS"),
            )
            for n in ("A", "B")
        ]
        storage = [
            e.ci(
                "storage",
                f"san-{cc}-{tag}-{n:02d}",
                site=site,
                group=dc_group,
                serial=e.serial("SAN"),
                source="storage-inventory",
                attributes={"storage_type": "san", "capacity_tb": 480, "manufacturer": "NetApp"},
            )
            for n in (1, 2)
        ]
        hosts = []
        for n in range(1, size.hosts + 1):
            host = e.ci(
                "server",
                f"esx-{cc}-{tag}-{n:02d}",
                site=site,
                group=dc_group,
                serial=e.serial("CZJ"),
                source="vcenter",
                attributes={
                    "manufacturer": "HPE",
                    "model": "ProLiant DL380 Gen10",
                    "os": "VMware ESXi",
                    "os_version": "8.0",
                    "cpu_count": 64,
                    "memory_gb": 1024,
                    "ip_address": f"10.{1 if cc == 'mx' else 2}.10.{n}",
                },
            )
            e.relate(host, storage[n % 2], DEPENDS)
            e.relate(host, ups[n % 2], DEPENDS)
            e.relate(host, network["core"], CONNECTS)
            e.link(self.services["dc-hosting"], host)
            hosts.append(host)
        for array in storage:
            e.link(self.services["storage-backup"], array)
        vms = []
        for n in range(1, size.hosts * size.vms_per_host + 1):
            vm = e.ci(
                "virtual_machine",
                f"vm-{cc}-{tag}-{n:04d}",
                site=site,
                group=dc_group,
                source="vcenter",
                attributes={
                    "hypervisor": "vmware",
                    "os": rng.choice(
                        [
                            "Red Hat Enterprise Linux 9",
                            "SUSE Linux 15",
                            "Windows Server 2022",
                            "Windows Server 2019",
                        ]
                    ),
                    "cpu_count": rng.choice([2, 4, 8, 16]),
                    "memory_gb": rng.choice([8, 16, 32, 64]),
                },
                environment=rng.choices(
                    [Environment.PRODUCTION, Environment.TEST, Environment.DEVELOPMENT], [7, 2, 1]
                )[0],
            )
            e.relate(vm, hosts[n % len(hosts)], RUNS)
            vms.append(vm)
        return {"hosts": hosts, "vms": vms, "storage": storage}

    def central_applications(self, mx: dict, br: dict, mx_site, br_site) -> None:
        """The business applications, through the CMDB services, and what they run on."""
        e, s = self.estate, self.services
        sap, db_group = self.groups["sap"], self.groups["database"]
        vm_pool = {"mx": itertools.cycle(mx["vms"]), "br": itertools.cycle(br["vms"])}

        def vm(where: str) -> CI:
            return next(vm_pool[where])

        def app(
            name: str,
            where: str,
            *,
            services_: tuple[str, ...],
            vendor: str,
            group,
            servers: int = 1,
            database: str | None = None,
            class_code: str = "business_application",
            depends: tuple[str, ...] = (),
            attributes: dict | None = None,
        ) -> CI:
            site = mx_site if where == "mx" else br_site
            values = {"vendor": vendor} if class_code == "business_application" else {}
            values.update(attributes or {})
            ci = e.via_service(
                class_code,
                name,
                site=site,
                owner_group=group,
                attributes=values,
                discovery_source="",
                description=f"{name}, hosted in {site.name}.",
            )
            for _ in range(servers):
                e.relate(ci, vm(where), RUNS)
            if database:
                instance = e.ci(
                    "database_instance",
                    f"db-{slugify(name)[:24]}-{where}",
                    site=site,
                    group=db_group,
                    source="db-discovery",
                    attributes={"engine": database, "port": 5432},
                )
                e.relate(instance, vm(where), RUNS)
                e.relate(ci, instance, DEPENDS)
                e.link(s["database-platform"], instance)
            for code in services_:
                e.link(s[code], ci)
            for other in depends:
                e.relate(ci, self.central[other], DEPENDS)
            self.central[name] = ci
            return ci

        ad = app(
            "Active Directory",
            "mx",
            services_=("identity",),
            vendor="Microsoft",
            group=self.groups["security"],
            servers=4,
        )
        app(
            "DNS & DHCP (Infoblox)",
            "mx",
            services_=("dns-dhcp",),
            vendor="Infoblox",
            group=self.groups["network-mexico"],
            servers=2,
        )
        hana = e.ci(
            "database_instance",
            "hana-prd-01",
            site=mx_site,
            group=db_group,
            source="db-discovery",
            attributes={"engine": "hana", "port": 30015},
        )
        for host_vm in (vm("mx"), vm("mx")):
            e.relate(hana, host_vm, RUNS)
        hana_dr = e.ci(
            "database_instance",
            "hana-dr-01",
            site=br_site,
            group=db_group,
            source="db-discovery",
            attributes={"engine": "hana", "port": 30015},
            environment=Environment.PRODUCTION,
        )
        e.relate(hana_dr, vm("br"), RUNS)
        e.link(s["database-platform"], hana)
        e.link(s["database-platform"], hana_dr)
        ecc = app(
            "SAP ECC 6.0 (PRD)",
            "mx",
            vendor="SAP",
            group=sap,
            servers=0,
            services_=(
                "sap-sales",
                "sap-finance",
                "sap-procurement",
                "sap-production-planning",
                "plant-maintenance",
                "payroll",
            ),
            depends=("Active Directory",),
        )
        e.relate(ecc, hana, DEPENDS)
        for n in range(1, 7):
            server = e.ci(
                "virtual_machine",
                f"sapapp-mx-{n:02d}",
                site=mx_site,
                group=sap,
                source="vcenter",
                attributes={"hypervisor": "vmware", "os": "SUSE Linux 15"},
            )
            e.relate(server, self.estate_host(mx, n), RUNS)
            e.relate(ecc, server, RUNS)
            e.link(s["sap-basis"], server)
        app(
            "SAP Process Integration",
            "mx",
            services_=("integration",),
            vendor="SAP",
            group=sap,
            servers=2,
            depends=("SAP ECC 6.0 (PRD)",),
        )
        app(
            "SAP HR Portal",
            "mx",
            services_=("hr-self-service",),
            vendor="SAP",
            group=sap,
            depends=("SAP ECC 6.0 (PRD)", "Active Directory"),
        )
        app(
            "SAP APO Demand Planning",
            "mx",
            services_=("demand-planning",),
            vendor="SAP",
            group=sap,
            servers=2,
            depends=("SAP ECC 6.0 (PRD)",),
        )
        app(
            "Route Sales Backend MX",
            "mx",
            services_=("route-sales",),
            vendor="In-house",
            group=self.groups["mobility"],
            servers=3,
            database="postgresql",
            depends=("SAP Process Integration",),
            attributes={"is_custom": True},
        )
        app(
            "Route Sales Backend BR",
            "br",
            services_=("route-sales",),
            vendor="In-house",
            group=self.groups["mobility"],
            servers=2,
            database="postgresql",
            depends=("SAP Process Integration",),
            attributes={"is_custom": True},
        )
        app(
            "WMS Central (Manhattan)",
            "mx",
            services_=("wms",),
            vendor="Manhattan",
            group=self.groups["data-centre"],
            servers=3,
            database="oracle",
            depends=("SAP Process Integration",),
        )
        app(
            "Transport Management (SAP TM)",
            "mx",
            services_=("tms",),
            vendor="SAP",
            group=sap,
            servers=2,
            depends=("SAP ECC 6.0 (PRD)",),
        )
        app(
            "EDI Gateway",
            "mx",
            services_=("edi",),
            vendor="OpenText",
            group=sap,
            depends=("SAP Process Integration",),
        )
        app(
            "B2B Ordering Portal",
            "br",
            services_=("b2b-portal",),
            vendor="In-house",
            group=sap,
            servers=2,
            database="postgresql",
            depends=("SAP Process Integration", "Active Directory"),
            attributes={"is_custom": True},
        )
        app(
            "MES Central (Siemens Opcenter)",
            "mx",
            services_=("plant-mes",),
            vendor="Siemens",
            group=self.groups["data-centre"],
            servers=2,
            database="sql_server",
        )
        app(
            "LIMS (LabWare)",
            "br",
            services_=("lims",),
            vendor="LabWare",
            group=self.groups["data-centre"],
            database="oracle",
        )
        app(
            "BI Platform",
            "mx",
            services_=("bi",),
            vendor="Microsoft",
            group=self.groups["database"],
            servers=2,
            database="sql_server",
            depends=("SAP ECC 6.0 (PRD)",),
        )
        app(
            "Label Print Server",
            "mx",
            services_=("label-printing",),
            vendor="Loftware",
            group=self.groups["data-centre"],
            depends=("WMS Central (Manhattan)",),
        )
        app(
            "Itsmo",
            "mx",
            services_=("service-desk-tooling",),
            vendor="Itsmo",
            group=self.groups["data-centre"],
            database="postgresql",
            depends=("Active Directory",),
        )
        app(
            "Zabbix Monitoring",
            "mx",
            services_=("monitoring",),
            vendor="Zabbix",
            group=self.groups["data-centre"],
            servers=2,
            database="postgresql",
        )
        app(
            "Print Server Cluster",
            "mx",
            services_=("print",),
            vendor="Microsoft",
            group=self.groups["euc-mexico"],
            servers=2,
            class_code="application",
            depends=("Active Directory",),
        )
        app(
            "Endpoint Protection Console",
            "mx",
            services_=("endpoint-security",),
            vendor="CrowdStrike",
            group=self.groups["security"],
            class_code="application",
        )
        for name, provider, codes, group in [
            ("Microsoft 365 Exchange Online", "azure", ("email",), "messaging"),
            ("Microsoft Teams", "azure", ("collaboration",), "messaging"),
            ("Entra ID", "azure", ("identity",), "security"),
            ("Salesforce Service Cloud", "other", ("crm",), "sap"),
            ("Genesys Cloud Contact Centre", "other", ("contact-centre",), "messaging"),
            ("SAP Concur", "other", ("expenses",), "sap"),
            ("Fleet Telematics (Geotab)", "other", ("fleet-telematics",), "mobility"),
            ("Intune Mobile Device Management", "azure", ("mdm",), "mobility"),
        ]:
            ci = e.via_service(
                "cloud_service",
                name,
                owner_group=self.groups[group],
                attributes={"provider": provider},
                discovery_source="",
            )
            for code in codes:
                e.link(s[code], ci)
            self.central[name] = ci
        for name in ("Microsoft 365 Exchange Online", "Microsoft Teams"):
            e.relate(self.central[name], self.central["Entra ID"], DEPENDS)
        e.relate(self.central["Entra ID"], ad, DEPENDS)
        e.relate(
            self.central["Salesforce Service Cloud"],
            self.central["SAP Process Integration"],
            DEPENDS,
        )

    def estate_host(self, dc: dict, n: int) -> CI:
        return dc["hosts"][n % len(dc["hosts"])]

    # --- every site ----------------------------------------------------------------------

    def network(self, site) -> None:
        """WAN link(s), router, core and access switches, access points."""
        e, rng, size = self.estate, self.rng, self.sizing
        tag, cc, country = site_tag(site), site.country.code.lower(), site.country
        group = self.group("network", country)
        carriers = CARRIERS.get(country.code, DEFAULT_CARRIERS)
        big = site.kind in (SiteKind.DATA_CENTRE, SiteKind.PLANT, SiteKind.DISTRIBUTION_CENTRE)
        links = [
            e.ci(
                "link",
                f"WAN MPLS {site.name}",
                site=site,
                group=group,
                source="netflow",
                attributes={
                    "carrier": carriers[0],
                    "link_type": "mpls",
                    "circuit_id": e.serial(carriers[0][:3].upper()),
                    "bandwidth_mbps": 1000
                    if site.kind == SiteKind.DATA_CENTRE
                    else rng.choice([50, 100, 200]),
                },
            )
        ]
        if site.kind in (SiteKind.DATA_CENTRE, SiteKind.PLANT, SiteKind.OFFICE):
            links.append(
                e.ci(
                    "link",
                    f"Internet SD-WAN {site.name}",
                    site=site,
                    group=group,
                    source="netflow",
                    attributes={
                        "carrier": carriers[-1],
                        "link_type": "sd_wan",
                        "circuit_id": e.serial("SDW"),
                        "bandwidth_mbps": rng.choice([100, 300, 500]),
                    },
                )
            )
        router = e.ci(
            "network_device",
            f"rt-{cc}-{tag}-01",
            site=site,
            group=group,
            serial=e.serial("FGL"),
            source="snmp",
            attributes={"device_type": "router", "manufacturer": "Cisco", "model": "ISR 4451"},
        )
        for link in links:
            e.relate(router, link, CONNECTS)
            e.link(self.services["wan"], link)
        core = e.ci(
            "network_device",
            f"sw-{cc}-{tag}-core",
            site=site,
            group=group,
            serial=e.serial("FOC"),
            source="snmp",
            attributes={"device_type": "switch", "manufacturer": "Cisco", "model": "Catalyst 9500"},
        )
        e.relate(core, router, CONNECTS)
        e.link(self.services["lan-wifi"], core)
        switches = [core]
        for n in range(1, (size.switches if big else 1) + 1):
            switch = e.ci(
                "network_device",
                f"sw-{cc}-{tag}-{n:02d}",
                site=site,
                group=group,
                serial=e.serial("FOC"),
                source="snmp",
                attributes={
                    "device_type": "switch",
                    "manufacturer": "Cisco",
                    "model": "Catalyst 9300",
                },
            )
            e.relate(switch, core, CONNECTS)
            switches.append(switch)
        ap_count = {SiteKind.DATA_CENTRE: 2, SiteKind.SALES_BRANCH: 2}.get(
            site.kind, size.access_points if big else max(2, size.access_points // 2)
        )
        aps = []
        for n in range(1, ap_count + 1):
            ap = e.ci(
                "network_device",
                f"ap-{cc}-{tag}-{n:03d}",
                site=site,
                group=group,
                serial=e.serial("CNF"),
                source="wlc",
                attributes={
                    "device_type": "access_point",
                    "manufacturer": "Aruba",
                    "model": "AP-515",
                },
            )
            e.relate(ap, switches[n % len(switches)], CONNECTS)
            aps.append(ap)
        self.site_network[site.pk] = {
            "links": links,
            "router": router,
            "core": core,
            "switches": switches,
            "aps": aps,
        }

    def server(
        self,
        site,
        prefix: str,
        role: str,
        group,
        *,
        service: str | None = None,
        depends: CI | None = None,
    ) -> CI:
        e = self.estate
        tag, cc = site_tag(site), site.country.code.lower()
        ci = e.ci(
            "server",
            f"{prefix}-{cc}-{tag}-01",
            site=site,
            group=group,
            serial=e.serial("CZ2"),
            source="sccm",
            description=role,
            attributes={
                "manufacturer": "Dell",
                "model": "PowerEdge R650",
                "os": "Windows Server 2022",
                "cpu_count": 16,
                "memory_gb": 64,
            },
        )
        e.relate(ci, self.site_network[site.pk]["core"], CONNECTS)
        if depends is not None:
            e.relate(ci, depends, DEPENDS)
        if service:
            e.link(self.services[service], ci)
        return ci

    def site_servers(self, site) -> None:
        country, code = site.country, site.country.code
        backend = self.central[
            "Route Sales Backend BR" if code == "BR" else "Route Sales Backend MX"
        ]
        if site.kind in (SiteKind.DISTRIBUTION_CENTRE, SiteKind.SALES_BRANCH):
            sync = self.server(
                site,
                "hhs",
                "Handheld sync server for the routes of this site",
                self.groups["mobility"],
                service="route-sales",
                depends=backend,
            )
            self.sync_servers.setdefault(code, []).append(sync)
            self.site_network[site.pk]["sync"] = sync
            if site.name == STORY_SITE:
                self.story["sync"] = sync
        if site.kind == SiteKind.DISTRIBUTION_CENTRE:
            wms = self.server(
                site,
                "wms",
                "Local WMS server (radio-frequency picking)",
                self.groups["data-centre"],
                service="wms",
                depends=self.central["WMS Central (Manhattan)"],
            )
            self.site_network[site.pk]["wms"] = wms
            if site.name == STORY_SITE:
                self.story["wms"] = wms
        if site.kind == SiteKind.PLANT:
            mes = self.server(
                site,
                "mes",
                "Plant MES server",
                self.groups["data-centre"],
                service="plant-mes",
                depends=self.central["MES Central (Siemens Opcenter)"],
            )
            e = self.estate
            tag, cc = site_tag(site), country.code.lower()
            db = e.ci(
                "database_instance",
                f"mesdb-{cc}-{tag}",
                site=site,
                group=self.groups["database"],
                source="db-discovery",
                attributes={"engine": "sql_server", "port": 1433},
            )
            e.relate(db, mes, RUNS)
            for n in range(1, self.sizing.plc_gateways + 1):
                gateway = e.ci(
                    "network_device",
                    f"plcgw-{cc}-{tag}-{n:02d}",
                    site=site,
                    group=self.group("network", country),
                    serial=e.serial("SIE"),
                    source="snmp",
                    description=f"PLC gateway, line {n}",
                    attributes={
                        "device_type": "router",
                        "manufacturer": "Siemens",
                        "model": "SCALANCE M876",
                    },
                )
                network = self.site_network[site.pk]
                e.relate(gateway, network["switches"][n % len(network["switches"])], CONNECTS)
                e.relate(mes, gateway, DEPENDS)

    # --- fleets --------------------------------------------------------------------------

    def fleets(self, remaining: int) -> None:
        """Handhelds, laptops, desktops and printers until the scale's target is reached."""
        e, rng = self.estate, self.rng
        weights = self.ctx.data["country_data"]
        sites = [s for s in self.sites if s.kind != SiteKind.DATA_CENTRE]
        site_weight = [
            weights[s.country.code].weight
            * {
                SiteKind.OFFICE: 4,
                SiteKind.PLANT: 3,
                SiteKind.DISTRIBUTION_CENTRE: 3,
                SiteKind.SALES_BRANCH: 2,
            }[s.kind]
            for s in sites
        ]
        handheld_sites = [
            s for s in sites if s.kind in (SiteKind.DISTRIBUTION_CENTRE, SiteKind.SALES_BRANCH)
        ]
        counters: dict[str, int] = {}
        for index in range(remaining):
            roll = index % 20
            if roll < 8 and handheld_sites:
                site = handheld_sites[index % len(handheld_sites)]
                cc = site.country.code
                counters[cc + "hh"] = counters.get(cc + "hh", 0) + 1
                number = counters[cc + "hh"]
                route = f"{cc}-R{number:04d}"
                ci = e.ci(
                    "handheld",
                    f"HH-{cc}-{number:05d}",
                    site=site,
                    group=self.groups["mobility"],
                    serial=e.serial("21"),
                    source="intune",
                    attributes={
                        "model": rng.choice(["Zebra TC52", "Honeywell CT40"]),
                        "os": "Android 13",
                        "imei": f"35{rng.randrange(10**12):013d}",
                        "route": route,
                    },
                )
                network = self.site_network[site.pk]
                sync = network.get("sync") or self._sync_for(site)
                e.relate(ci, sync, DEPENDS)
                continue
            site = rng.choices(sites, site_weight)[0]
            cc, network = site.country.code, self.site_network[site.pk]
            group = self.group("euc", site.country)
            if roll == 19:
                counters[cc + "pr"] = counters.get(cc + "pr", 0) + 1
                ci = e.ci(
                    "end_user_device",
                    f"PRN-{cc}-{counters[cc + 'pr']:04d}",
                    site=site,
                    group=group,
                    serial=e.serial("VNB"),
                    source="snmp",
                    attributes={"device_type": "printer", "model": "HP LaserJet M507"},
                )
                e.relate(ci, network["switches"][-1], CONNECTS)
                if "wms" in network and rng.random() < 0.5:
                    e.relate(ci, network["wms"], DEPENDS)
                continue
            laptop = roll % 3 != 0
            kind = "LT" if laptop else "DT"
            counters[cc + kind] = counters.get(cc + kind, 0) + 1
            ci = e.ci(
                "end_user_device",
                f"{kind}-{cc}-{counters[cc + kind]:05d}",
                site=site,
                group=group,
                serial=e.serial("5CG" if laptop else "MXL"),
                source="sccm",
                attributes={
                    "device_type": "laptop" if laptop else "desktop",
                    "model": rng.choice(["EliteBook 840 G9", "Latitude 5440"])
                    if laptop
                    else "OptiPlex 7010",
                    "os": "Windows 11",
                },
            )
            if laptop and network["aps"]:
                e.relate(ci, rng.choice(network["aps"]), CONNECTS)
            else:
                e.relate(ci, rng.choice(network["switches"]), CONNECTS)

    def _sync_for(self, site) -> CI:
        servers = self.sync_servers.get(site.country.code)
        return servers[0] if servers else next(iter(self.sync_servers.values()))[0]

    # --- the mess of a real CMDB ---------------------------------------------------------

    def imperfections(self) -> None:
        e, rng = self.estate, self.rng
        offices = [s for s in self.sites if s.kind == SiteKind.OFFICE]
        for n in range(1, 9):  # orphans: discovered, never related, owned by nobody
            site = offices[(n * 5) % len(offices)]
            e.ci(
                "network_device",
                f"unknown-10.{40 + n}.{rng.randrange(1, 250)}.1",
                site=site,
                source="network-scan",
                attributes={"device_type": "switch"},
                description="Answered a network scan; nobody has claimed it yet.",
            )
        for n, site in enumerate(offices[:4], start=1):
            e.ci(
                "server",
                f"old-fs-{site.country.code.lower()}-{n:02d}",
                site=site,
                source="manual",
                serial=e.serial("OLD"),
                seen=e.now - timedelta(days=500),
                status=CIStatus.UNDER_MAINTENANCE,
                description="Old file server; to retire?",
            )
        for n in range(1, 7):  # duplicate candidates: one device recorded twice
            site = offices[n % len(offices)]
            cc = site.country.code
            e.ci(
                "end_user_device",
                f"LT-{cc}-DUP{n:02d}",
                site=site,
                serial=e.serial("5CG"),
                source="sccm",
                attributes={"device_type": "laptop"},
                group=self.group("euc", site.country),
            )
            e.ci(
                "end_user_device",
                f"lt-{cc}-dup{n:02d}",
                site=site,
                serial=e.serial("5cg"),
                source="spreadsheet",
                seen=e.now - timedelta(days=200),
                attributes={"device_type": "laptop"},
            )
        for n in range(1, 4):  # planned and retired kit
            site = offices[-n]
            e.ci(
                "server",
                f"srv-{site.country.code.lower()}-new-{n:02d}",
                site=site,
                status=CIStatus.PLANNED,
                serial=e.serial("NEW"),
                seen=None,
                source="",
                group=self.groups["data-centre"],
            )


def ensure_standard_classes() -> None:
    """Seed the standard CI classes again if ``loaddemo --reset`` flushed them.

    They come from a data migration, and ``flush`` empties every table, migrated rows
    included. The migration's own function is reused (it is idempotent).
    """
    if CIClass.objects.exists():
        return
    migration = importlib.import_module("itsmo.cmdb.migrations.0002_seed_ci_classes")
    migration.seed(django_apps, None)


@step("cmdb", after=["catalog"])
def load_cmdb(ctx: DemoContext) -> None:
    ensure_standard_classes()
    builder = Builder(ctx)
    data_centres = {s.country.code: s for s in ctx.data["sites"] if s.kind == SiteKind.DATA_CENTRE}
    for site in ctx.data["sites"]:
        builder.network(site)
    mx = builder.data_centre(data_centres["MX"])
    br = builder.data_centre(data_centres["BR"])
    builder.central_applications(mx, br, data_centres["MX"], data_centres["BR"])
    for site in ctx.data["sites"]:
        builder.site_servers(site)
    builder.imperfections()
    remaining = max(0, TARGET[ctx.scale] - builder.estate.count)
    builder.fleets(remaining)
    story_site = next(s for s in ctx.data["sites"] if s.name == STORY_SITE)
    builder.estate.flush()
    ctx.data["cmdb_story"] = {
        "wan_link": builder.site_network[story_site.pk]["links"][0],
        "router": builder.site_network[story_site.pk]["router"],
        **builder.story,
    }
    ctx.data["cmdb_central"] = builder.central
