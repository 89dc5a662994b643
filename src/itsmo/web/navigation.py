"""The navigation of the product, as data.

Every area of Itsmo has one ``Entry``. An area that is not built yet has
``url_name=None`` and leads to the honest "not available yet" page
(``/soon/<key>/``), which shows its ``summary``. When an app ships its pages it
switches its entry on by changing that one line, e.g.::

    url_name=None,  ->  url_name="incidents:list",

``roles`` lists who sees the entry (empty: every signed-in user). Administrators
see every entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from itsmo.accounts.models import Role

#: People who work tickets and records.
STAFF = frozenset(Role) - {Role.END_USER}
#: People who govern the processes.
GOVERNANCE = frozenset({Role.PROCESS_OWNER, Role.SMO_ANALYST, Role.ADMINISTRATOR})
#: Governance plus the managers of resolver groups (they attend committees, own actions).
MANAGEMENT = GOVERNANCE | {Role.GROUP_MANAGER}
ADMINISTRATORS = frozenset({Role.ADMINISTRATOR})


@dataclass(frozen=True)
class Entry:
    key: str
    label: str | Promise
    url_name: str | None
    roles: frozenset[str] = frozenset()
    summary: str | Promise = ""
    #: Needs Django's ``is_staff`` flag too (the Django admin site checks it).
    needs_staff_flag: bool = False

    @property
    def is_available(self) -> bool:
        return self.url_name is not None

    def url(self) -> str:
        if self.url_name is None:
            return reverse("web:soon", args=[self.key])
        return reverse(self.url_name)

    def is_visible_to(self, user) -> bool:
        if user is None or not user.is_authenticated:
            return False
        if self.needs_staff_flag and not user.is_staff:
            return False
        if not self.roles:
            return True
        return user.has_role(Role.ADMINISTRATOR, *self.roles)


@dataclass(frozen=True)
class Section:
    key: str
    label: str | Promise
    entries: tuple[Entry, ...] = field(default_factory=tuple)
    #: A shorter heading for the narrow side navigation (defaults to ``label``).
    short_label: str | Promise | None = None


SECTIONS: tuple[Section, ...] = (
    Section(
        key="overview",
        label=_("Overview"),
        entries=(
            Entry(
                key="home",
                label=_("Home"),
                url_name="web:home",
            ),
            Entry(key="portal", label=_("Self-service portal"), url_name="portal:home"),
        ),
    ),
    Section(
        key="operations",
        label=_("Operations"),
        entries=(
            Entry(
                key="service-desk",
                label=_("Service desk"),
                url_name="incidents:queues",
                roles=frozenset({Role.AGENT, Role.GROUP_MANAGER}),
                summary=_(
                    "The agent's workspace: the queues of your support groups, the records "
                    "assigned to you, and what is about to breach its SLA."
                ),
            ),
            Entry(
                key="incidents",
                label=_("Incidents"),
                url_name="incidents:list",
                roles=STAFF,
                summary=_(
                    "Record, prioritise by impact and urgency, assign, escalate and resolve "
                    "interruptions of service, with SLA clocks on the country's business "
                    "calendar and a dedicated process for major incidents."
                ),
            ),
            Entry(
                key="problems",
                label=_("Problems"),
                url_name="problems:list",
                roles=STAFF,
                summary=_(
                    "Find the root cause behind recurring incidents, document workarounds "
                    "and publish known errors."
                ),
            ),
            Entry(
                key="changes",
                label=_("Changes"),
                url_name="changes:list",
                roles=STAFF,
                summary=_(
                    "Request, assess, approve (CAB or ECAB), schedule and review standard, "
                    "normal and emergency changes, with risk, plan and back-out plan."
                ),
            ),
            Entry(
                key="requests",
                label=_("Requests"),
                url_name=None,
                summary=_(
                    "Ask for something from the request catalogue and follow it until it "
                    "is fulfilled."
                ),
            ),
            Entry(
                key="cmdb",
                label=_("CMDB"),
                url_name="cmdb:list",
                roles=STAFF,
                summary=_(
                    "Configuration items and their relationships, so that the impact of a "
                    "failure or a change can be traced up to the business services."
                ),
            ),
            Entry(
                key="services",
                label=_("Services"),
                url_name="catalog:services",
                summary=_(
                    "The service catalogue: business and technical services, the business "
                    "processes they support and the SLAs agreed for them."
                ),
            ),
            Entry(
                key="service-levels",
                label=_("Service levels"),
                url_name="slm:definitions",
                roles=STAFF,
                summary=_(
                    "The SLAs agreed with the business and the OLAs of the support groups, "
                    "and how well they are met."
                ),
            ),
            Entry(
                key="knowledge",
                label=_("Knowledge"),
                url_name="knowledge:list",
                summary=_(
                    "Articles that help people solve issues themselves and help agents "
                    "resolve them faster."
                ),
            ),
        ),
    ),
    Section(
        key="smo",
        label=_("Service Management Office"),
        short_label=_("SMO"),
        entries=(
            Entry(
                key="indicators",
                label=_("Indicators"),
                url_name=None,
                roles=MANAGEMENT,
                summary=_(
                    "KPIs computed from the operational data, by period, region and "
                    "service, against their targets, including business availability."
                ),
            ),
            Entry(
                key="processes",
                label=_("Processes"),
                url_name=None,
                roles=MANAGEMENT,
                summary=_(
                    "The catalogue of ITSM processes, their owners and roles, and how far "
                    "each region has adopted them."
                ),
            ),
            Entry(
                key="assessments",
                label=_("Assessments"),
                url_name=None,
                roles=GOVERNANCE,
                summary=_(
                    "Maturity assessments (levels 1 to 5) per process and region, by "
                    "questionnaire and by compliance checks computed from the data."
                ),
            ),
            Entry(
                key="audits",
                label=_("Audits"),
                url_name=None,
                roles=GOVERNANCE,
                summary=_("Plan and run process audits, record findings and follow them up."),
            ),
            Entry(
                key="committees",
                label=_("Committees"),
                url_name=None,
                roles=MANAGEMENT,
                summary=_(
                    "Executive, tactical and operational committees: meetings, agendas, "
                    "decisions and action items."
                ),
            ),
            Entry(
                key="improvements",
                label=_("Improvements"),
                url_name=None,
                roles=MANAGEMENT,
                summary=_(
                    "The Service Improvement Plan: every improvement initiative, its owner, "
                    "its status and the benefit expected."
                ),
            ),
            Entry(
                key="bulletins",
                label=_("Bulletins"),
                url_name=None,
                roles=STAFF,
                summary=_(
                    "The monthly bulletin of the SMO, as a web page, a PDF and an e-mail, "
                    "built from the indicator snapshots."
                ),
            ),
        ),
    ),
    Section(
        key="admin",
        label=_("Administration"),
        entries=(
            Entry(
                key="django-admin",
                label=_("Django admin"),
                url_name="admin:index",
                roles=ADMINISTRATORS,
                needs_staff_flag=True,
            ),
        ),
    ),
)


def all_entries() -> list[Entry]:
    return [entry for section in SECTIONS for entry in section.entries]


def get_entry(key: str) -> Entry | None:
    return next((entry for entry in all_entries() if entry.key == key), None)


def _is_active(url: str, path: str, entry: Entry, soon_key: str | None) -> bool:
    if not entry.is_available:
        return soon_key == entry.key
    if url == "/":
        return path == "/"
    return path.startswith(url)


def menu_for(user, path: str, soon_key: str | None = None) -> list[dict]:
    """The sections and entries ``user`` may see, the one matching ``path`` marked active."""
    menu = []
    for section in SECTIONS:
        entries = []
        for entry in section.entries:
            if not entry.is_visible_to(user):
                continue
            url = entry.url()
            entries.append(
                {
                    "key": entry.key,
                    "label": entry.label,
                    "url": url,
                    "is_available": entry.is_available,
                    "is_active": _is_active(url, path, entry, soon_key),
                }
            )
        if entries:
            menu.append(
                {
                    "key": section.key,
                    "label": section.label,
                    "short_label": section.short_label or section.label,
                    "entries": entries,
                }
            )
    return menu
