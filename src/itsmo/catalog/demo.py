"""Demo service portfolio: Sabores Unidos' business processes, services and request offerings.

Adds to ``ctx.data``: ``business_processes`` and ``services`` (by code), ``offerings``
(by code). Service hours are the Mexico head office's business calendar for now (the
``hours_24x7`` services get a 24x7 calendar once SLM ships one). Everything is written through
:mod:`itsmo.catalog.services`, as the system (``actor=None``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from itsmo.catalog import services
from itsmo.catalog.models import Lifecycle, ServiceKind
from itsmo.core.demo import DemoContext, step
from itsmo.organization.models import SiteKind

#: code, name, criticality, owner's job title, description
BUSINESS_PROCESSES = [
    (
        "sales",
        "Sales",
        1,
        "Sales Manager",
        "Route sales, key accounts and order taking: from the customer's order to the invoice.",
    ),
    (
        "production",
        "Production",
        1,
        "Plant Manager",
        "Manufacturing in the plants: planning, lines, quality release.",
    ),
    (
        "logistics",
        "Logistics",
        1,
        "Logistics Coordinator",
        "Warehousing in the distribution centres: receiving, storage, picking.",
    ),
    (
        "shipping",
        "Shipping",
        2,
        "Fleet Coordinator",
        "Transport from plants to distribution centres and on to customers.",
    ),
    (
        "finance",
        "Finance",
        2,
        "Controller",
        "Accounting, payables, receivables, treasury and the monthly close.",
    ),
    (
        "customer-service",
        "Customer service",
        2,
        "Customer Service Representative",
        "Customer orders, claims and questions by phone, e-mail and portal.",
    ),
    (
        "procurement",
        "Procurement",
        3,
        "Procurement Buyer",
        "Purchasing raw materials, packaging and services; supplier management.",
    ),
    (
        "quality",
        "Quality & food safety",
        2,
        "Food Safety Specialist",
        "Laboratory analysis, batch release and food-safety compliance.",
    ),
    (
        "hr",
        "Human resources",
        3,
        "HR Business Partner",
        "Hiring, payroll, training and people administration.",
    ),
    ("marketing", "Marketing", 4, "Brand Manager", "Brands, trade promotions and market research."),
]

ALL = "all"
PLANTS = "plants"
DCS = "dcs"


@dataclass(frozen=True)
class ServiceData:
    code: str
    name: str
    kind: str
    criticality: int
    group: str  # support group code; "{region}" groups use Mexico's
    processes: dict[str, int] = field(default_factory=dict)
    countries: str = ALL
    portal: str = ""
    hours_24x7: bool = False
    lifecycle: str = Lifecycle.CATALOGUE


B, T = ServiceKind.BUSINESS, ServiceKind.TECHNICAL

SERVICES = [
    # Business services: what the business consumes.
    ServiceData(
        "sap-sales",
        "SAP Sales Order Management",
        B,
        1,
        "sap",
        {"sales": 90, "customer-service": 60},
        portal="Orders, pricing, deliveries and billing in SAP.",
    ),
    ServiceData(
        "route-sales",
        "Handheld Route Sales",
        B,
        1,
        "mobility",
        {"sales": 80},
        portal="Route sales on the handhelds: orders, invoices and collections on the street.",
        hours_24x7=True,
    ),
    ServiceData(
        "plant-mes",
        "Plant MES",
        B,
        1,
        "data-centre",
        {"production": 90, "quality": 40},
        countries=PLANTS,
        portal="Manufacturing execution on the plant floor.",
        hours_24x7=True,
    ),
    ServiceData(
        "wms",
        "Warehouse Management",
        B,
        1,
        "data-centre",
        {"logistics": 90, "shipping": 50},
        countries=DCS,
        portal="Receiving, storage, picking and dispatch in the distribution centres.",
        hours_24x7=True,
    ),
    ServiceData(
        "tms",
        "Transport Management",
        B,
        2,
        "sap",
        {"shipping": 90, "logistics": 40},
        portal="Route planning, carriers and freight costs.",
    ),
    ServiceData(
        "email",
        "Corporate E-mail",
        B,
        2,
        "messaging",
        {
            "sales": 20,
            "customer-service": 30,
            "finance": 20,
            "procurement": 20,
            "hr": 20,
            "marketing": 20,
        },
        portal="Your mailbox, calendar and shared mailboxes.",
    ),
    ServiceData(
        "collaboration",
        "Teams & Collaboration",
        B,
        3,
        "messaging",
        {"marketing": 10, "hr": 10},
        portal="Chat, meetings and shared documents.",
    ),
    ServiceData(
        "sap-finance",
        "SAP Finance & Controlling",
        B,
        2,
        "sap",
        {"finance": 90},
        portal="General ledger, payables, receivables, controlling.",
    ),
    ServiceData(
        "sap-procurement",
        "SAP Purchase to Pay",
        B,
        2,
        "sap",
        {"procurement": 90, "finance": 30},
        portal="Purchase requisitions, orders and supplier invoices.",
    ),
    ServiceData(
        "sap-production-planning",
        "SAP Production Planning",
        B,
        2,
        "sap",
        {"production": 70, "procurement": 20},
        countries=PLANTS,
    ),
    ServiceData(
        "plant-maintenance",
        "Plant Maintenance",
        B,
        2,
        "sap",
        {"production": 40},
        countries=PLANTS,
        portal="Work orders for the plants' maintenance teams.",
    ),
    ServiceData(
        "payroll",
        "Payroll",
        B,
        2,
        "sap",
        {"hr": 90},
        portal="Pay slips, deductions and payroll runs.",
    ),
    ServiceData(
        "hr-self-service",
        "HR Self-Service",
        B,
        3,
        "sap",
        {"hr": 50},
        portal="Holidays, personal data and certificates.",
    ),
    ServiceData(
        "expenses",
        "Travel & Expenses",
        B,
        4,
        "sap",
        {"finance": 20, "hr": 10},
        portal="Trips, advances and expense reports.",
    ),
    ServiceData(
        "edi", "EDI with Customers & Suppliers", B, 2, "sap", {"sales": 40, "procurement": 40}
    ),
    ServiceData(
        "b2b-portal",
        "Customer B2B Ordering Portal",
        B,
        2,
        "sap",
        {"sales": 50, "customer-service": 40},
        portal="Ordering portal for wholesale customers.",
    ),
    ServiceData("crm", "Customer Service CRM", B, 2, "sap", {"customer-service": 90}),
    ServiceData(
        "contact-centre",
        "Telephony & Contact Centre",
        B,
        2,
        "messaging",
        {"customer-service": 70, "sales": 10},
    ),
    ServiceData(
        "lims",
        "Quality Laboratory (LIMS)",
        B,
        2,
        "data-centre",
        {"quality": 80, "production": 30},
        countries=PLANTS,
    ),
    ServiceData(
        "demand-planning",
        "Demand Planning",
        B,
        3,
        "sap",
        {"sales": 30, "production": 40, "logistics": 30},
    ),
    ServiceData(
        "bi",
        "Business Intelligence & Reporting",
        B,
        3,
        "database",
        {"finance": 30, "sales": 30, "marketing": 30},
        portal="Dashboards and reports on sales, production and finance.",
    ),
    ServiceData("fleet-telematics", "Fleet Telematics", B, 3, "mobility", {"shipping": 60}),
    ServiceData(
        "label-printing",
        "Warehouse Label Printing",
        B,
        3,
        "data-centre",
        {"logistics": 30, "shipping": 30},
        countries=DCS,
    ),
    ServiceData(
        "trade-promotions",
        "Trade Promotion Management",
        B,
        4,
        "sap",
        {"marketing": 60, "sales": 20},
        lifecycle=Lifecycle.PIPELINE,
    ),
    ServiceData(
        "fax-gateway",
        "Legacy Order Fax Gateway",
        B,
        4,
        "messaging",
        {"customer-service": 10},
        lifecycle=Lifecycle.RETIRED,
    ),
    # Technical services: what the business services run on.
    ServiceData("wan", "WAN", T, 1, "network-mexico", hours_24x7=True),
    ServiceData("lan-wifi", "LAN & Wi-Fi", T, 2, "network-mexico", hours_24x7=True),
    ServiceData("dc-hosting", "Data Centre Hosting", T, 1, "data-centre", hours_24x7=True),
    ServiceData("storage-backup", "Storage & Backup", T, 1, "data-centre", hours_24x7=True),
    ServiceData("database-platform", "Database Platform", T, 1, "database", hours_24x7=True),
    ServiceData("sap-basis", "SAP Basis Platform", T, 1, "sap", hours_24x7=True),
    ServiceData("integration", "Integration Platform", T, 2, "sap", hours_24x7=True),
    ServiceData(
        "identity",
        "Identity & Access",
        T,
        1,
        "security",
        hours_24x7=True,
        portal="Accounts, passwords, roles and multi-factor sign-in.",
    ),
    ServiceData(
        "internet",
        "Internet Access & Remote Access",
        T,
        2,
        "security",
        portal="Internet browsing and VPN from home or on the road.",
    ),
    ServiceData("endpoint-security", "Endpoint Protection", T, 2, "security"),
    ServiceData(
        "workplace",
        "Workplace Devices",
        T,
        3,
        "euc-mexico",
        portal="Laptops, desktops, monitors and software.",
    ),
    ServiceData(
        "mdm", "Mobile Device Management", T, 2, "mobility", portal="Handhelds and company phones."
    ),
    ServiceData("print", "Print Services", T, 4, "euc-mexico"),
    ServiceData("dns-dhcp", "DNS & DHCP", T, 1, "network-mexico", hours_24x7=True),
    ServiceData(
        "monitoring", "Monitoring & Event Management", T, 2, "data-centre", hours_24x7=True
    ),
    ServiceData("service-desk-tooling", "Service Desk Tooling", T, 2, "data-centre"),
    ServiceData(
        "cloud-platform", "Public Cloud Platform", T, 2, "data-centre", lifecycle=Lifecycle.PIPELINE
    ),
]


def _choice(name: str, label: str, options: list[str], *, required: bool = True) -> dict:
    return {
        "name": name,
        "label": label,
        "type": "choice",
        "required": required,
        "options": options,
    }


def _field(
    name: str, label: str, kind: str = "text", *, required: bool = False, help_text: str = ""
) -> dict:
    result = {"name": name, "label": label, "type": kind, "required": required}
    if help_text:
        result["help"] = help_text
    return result


#: code, name, service code, portal category, description, form definition
OFFERINGS = [
    (
        "new-laptop",
        "New laptop",
        "workplace",
        "Devices",
        "A standard laptop with the corporate image, delivered by field services.",
        [
            _choice("model", "Model", ["14-inch standard", "16-inch performance"]),
            _field("for_user", "For whom", "user", required=True),
            _field("needed_by", "Needed by", "date"),
            _field(
                "justification",
                "Justification",
                "textarea",
                help_text="Replacement, new hire or role change.",
            ),
        ],
    ),
    (
        "sap-role",
        "Access to an SAP role",
        "identity",
        "Access",
        "A role in SAP ECC, approved by its business role owner.",
        [
            _choice("system", "System", ["ECC production", "ECC quality", "BW"]),
            _field("role", "Role name", required=True, help_text="For example Z_SD_ORDER_ENTRY."),
            _field("for_user", "For whom", "user", required=True),
            _field("reason", "Business reason", "textarea", required=True),
        ],
    ),
    (
        "new-handheld",
        "New handheld",
        "mdm",
        "Devices",
        "A route-sales handheld with printer, enrolled in device management.",
        [
            _field("route", "Sales route", required=True),
            _choice("model", "Model", ["Zebra TC52", "Honeywell CT40"]),
            _field("with_printer", "Include a belt printer", "bool"),
        ],
    ),
    (
        "vpn-access",
        "VPN access",
        "internet",
        "Access",
        "Remote access to the corporate network from outside the office.",
        [
            _field("for_user", "For whom", "user", required=True),
            _field("until", "Until", "date", help_text="Leave empty for permanent access."),
            _field("reason", "Reason", "textarea", required=True),
        ],
    ),
    (
        "mailbox-increase",
        "Mailbox increase",
        "email",
        "E-mail",
        "More space for your mailbox or a shared mailbox.",
        [
            _field("mailbox", "Mailbox address", required=True),
            _choice("size", "New size", ["50 GB", "100 GB"]),
        ],
    ),
    (
        "shared-mailbox",
        "New shared mailbox",
        "email",
        "E-mail",
        "A shared mailbox for a team, with its members.",
        [
            _field("address", "Address wanted", required=True),
            _field("members", "Members", "textarea", required=True),
        ],
    ),
    (
        "software-install",
        "Software installation",
        "workplace",
        "Software",
        "Install licensed software from the approved list.",
        [
            _field("software", "Software", required=True),
            _field("computer", "Computer name"),
        ],
    ),
]


def _users_by_title(ctx: DemoContext) -> dict[str, list]:
    by_title: dict[str, list] = {}
    for username in ctx.data["people"].get("end_users", []):
        user = ctx.data["users"][username]
        by_title.setdefault(user.job_title, []).append(user)
    return by_title


@step("catalog", after=["accounts"])
def load_catalog(ctx: DemoContext) -> None:
    rng = ctx.random
    users = list(ctx.data["users"].values())
    by_title = _users_by_title(ctx)
    processes = {}
    for code, name, criticality, title, description in BUSINESS_PROCESSES:
        candidates = by_title.get(title) or users
        processes[code] = services.create_business_process(
            actor=None,
            code=code,
            name=name,
            criticality=criticality,
            owner=rng.choice(candidates),
            description=description,
        )

    countries = ctx.data["countries"]
    sites_by_country = ctx.data["sites_by_country"]

    def having(kind: str) -> list:
        return [
            countries[code]
            for code, sites in sites_by_country.items()
            if any(site.kind == kind for site in sites)
        ]

    country_sets = {
        ALL: list(countries.values()),
        PLANTS: having(SiteKind.PLANT),
        DCS: having(SiteKind.DISTRIBUTION_CENTRE),
    }
    groups = ctx.data["groups"]
    made = {}
    for data in SERVICES:
        group = groups.get(data.group)
        hours = ctx.data["calendars"]["MX"]
        lifecycle = Lifecycle.CATALOGUE if data.lifecycle == Lifecycle.RETIRED else data.lifecycle
        service = services.create_service(
            actor=None,
            code=data.code,
            name=data.name,
            kind=data.kind,
            lifecycle=lifecycle,
            countries=country_sets[data.countries],
            criticality=data.criticality,
            owner=group.manager if group else None,
            support_group=group,
            service_hours=hours,
            description=data.portal or data.name,
            portal_description=data.portal,
            is_portal_visible=bool(data.portal),
        )
        if data.processes:
            services.set_business_processes(
                service,
                {processes[code]: weight for code, weight in data.processes.items()},
                actor=None,
            )
        if data.lifecycle == Lifecycle.RETIRED:
            services.retire_service(
                service, actor=None, note="Replaced by the B2B ordering portal and EDI."
            )
        made[data.code] = service

    offerings = {}
    for code, name, service_code, category, description, form in OFFERINGS:
        offerings[code] = services.create_request_offering(
            actor=None,
            code=code,
            name=name,
            service=made[service_code],
            description=description,
            form_definition=form,
            portal_category=category,
        )
    ctx.data.update(business_processes=processes, services=made, offerings=offerings)
