"""Demo people and support groups: service desks, L2 towers, field services, the SMO.

Adds to ``ctx.data``: ``users`` (by username), ``groups`` (by code) and ``people``
(lists of usernames by kind: ``agents``, ``managers``, ``end_users``, …).

Generated people have no usable password (hashing a thousand passwords would take
minutes); the role accounts in ``ROLE_ACCOUNTS`` share the demo password.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from itsmo.accounts import services
from itsmo.accounts.models import Role, Tier
from itsmo.core.demo import DEMO_DOMAIN, DemoContext, add_login, step


def _words(text: str) -> list[str]:
    return text.split()


SPANISH_MEN = _words("""
    Alejandro Andrés Antonio Carlos Daniel Diego Eduardo Emilio Enrique Fernando Francisco
    Gabriel Gustavo Héctor Hugo Ignacio Javier Jesús Jorge José Juan Julio Leonardo Luis
    Manuel Marco Mario Martín Mateo Miguel Nicolás Óscar Pablo Pedro Rafael Ramón Ricardo
    Roberto Rodrigo Santiago Sebastián Sergio Tomás Víctor
""")
SPANISH_WOMEN = _words("""
    Adriana Alejandra Ana Andrea Beatriz Camila Carmen Carolina Catalina Claudia Cristina
    Daniela Diana Elena Fernanda Gabriela Isabel Jimena Laura Lucía Luisa Mariana María Marta
    Mónica Natalia Patricia Paula Paola Raquel Rosa Sandra Silvia Sofía Teresa Valentina
    Valeria Verónica Ximena Yolanda
""")
SPANISH_SURNAMES = _words("""
    Acosta Aguilar Álvarez Benítez Blanco Cabrera Calderón Campos Castillo Castro Chávez
    Contreras Cortés Cruz Delgado Díaz Domínguez Escobar Espinoza Estrada Fernández Flores
    Fuentes García Gómez González Guerrero Gutiérrez Hernández Herrera Ibarra Jiménez Juárez
    Lara León López Luna Maldonado Marín Márquez Martínez Medina Mejía Méndez Mendoza Molina
    Morales Moreno Muñoz Navarro Núñez Ortega Ortiz Pacheco Paredes Peña Pérez Quintero
    Ramírez Ramos Reyes Ríos Rivera Rodríguez Rojas Romero Rosales Ruiz Salazar Salinas
    Sánchez Sandoval Silva Soto Suárez Torres Trujillo Valdez Vargas Vásquez Vega Velásquez
    Villalobos Zamora Zúñiga
""")
PORTUGUESE_MEN = _words("""
    André Antônio Bruno Caio Carlos Daniel Diego Eduardo Felipe Fernando Gabriel Guilherme
    Gustavo Henrique João Jorge José Leandro Lucas Luiz Marcelo Marcos Mateus Paulo Pedro
    Rafael Renato Ricardo Rodrigo Samuel Thiago Vinícius
""")
PORTUGUESE_WOMEN = _words("""
    Adriana Aline Amanda Ana Beatriz Bruna Camila Carla Cláudia Daniela Fernanda Gabriela
    Helena Isabela Juliana Larissa Letícia Luana Mariana Maria Natália Patrícia Priscila
    Renata Sabrina Simone Tatiana Vanessa
""")
PORTUGUESE_SURNAMES = _words("""
    Almeida Alves Araújo Barbosa Barros Batista Cardoso Carvalho Castro Cavalcanti Correia
    Costa Cunha Dias Fernandes Ferreira Freitas Gomes Lima Lopes Machado Martins Melo Mendes
    Monteiro Moreira Nascimento Nogueira Oliveira Pereira Pinto Ramos Ribeiro Rocha Rodrigues
    Santos Silva Soares Souza Teixeira Vieira
""")

#: L2 towers run once for the whole company (homed at the Mexico head office).
GLOBAL_TOWERS = [
    ("sap", "SAP Competence Centre", "SAP ECC and S/4HANA: finance, supply chain, sales."),
    ("database", "Database Administration", "Oracle, SQL Server, SAP HANA and PostgreSQL."),
    ("security", "Information Security", "Identity, firewalls, endpoint protection, SOC."),
    ("messaging", "Messaging & Collaboration", "E-mail, Teams, SharePoint, telephony."),
    (
        "data-centre",
        "Infrastructure & Data Centre",
        "Servers, storage, backup, the Querétaro and Campinas data centres.",
    ),
    ("mobility", "Handhelds & Mobility", "Route-sales handhelds, printers and MDM."),
]
#: L2 towers every region runs for itself.
REGIONAL_TOWERS = [
    ("network", "Network", "LAN, WAN, Wi-Fi and SD-WAN of plants and distribution centres."),
    ("euc", "End-User Computing", "Laptops, desktops, printers and software installs."),
]

PROCESSES = [
    "Incident Management",
    "Problem Management",
    "Change Enablement",
    "Service Level Management",
    "Service Configuration Management",
    "Service Request Management",
    "Knowledge Management",
    "Monitoring & Event Management",
    "Service Desk",
]

END_USER_TITLES = [
    "Plant Manager",
    "Production Supervisor",
    "Quality Analyst",
    "Maintenance Technician",
    "Warehouse Supervisor",
    "Logistics Coordinator",
    "Route Sales Representative",
    "Key Account Manager",
    "Trade Marketing Analyst",
    "Accounts Payable Analyst",
    "Controller",
    "HR Business Partner",
    "Payroll Analyst",
    "Procurement Buyer",
    "Demand Planner",
    "Brand Manager",
    "Customer Service Representative",
    "Sales Manager",
    "Fleet Coordinator",
    "Food Safety Specialist",
]


@dataclass(frozen=True)
class Staffing:
    """How many people fill each kind of group at one scale."""

    users: int
    desk_agents: int
    field_agents: int
    network_agents: int
    euc_agents: int
    global_agents: int
    #: With ``False`` one regional IT manager manages all of a region's groups.
    manager_per_group: bool
    smo_analysts: int
    process_owners: int
    administrators: int


STAFFING = {
    "small": Staffing(
        users=60,
        desk_agents=1,
        field_agents=1,
        network_agents=1,
        euc_agents=0,
        global_agents=1,
        manager_per_group=False,
        smo_analysts=1,
        process_owners=2,
        administrators=0,
    ),
    "medium": Staffing(
        users=200,
        desk_agents=4,
        field_agents=2,
        network_agents=2,
        euc_agents=2,
        global_agents=3,
        manager_per_group=True,
        smo_analysts=3,
        process_owners=5,
        administrators=1,
    ),
    "large": Staffing(
        users=1000,
        desk_agents=18,
        field_agents=5,
        network_agents=5,
        euc_agents=6,
        global_agents=8,
        manager_per_group=True,
        smo_analysts=8,
        process_owners=9,
        administrators=3,
    ),
}

#: Accounts with the demo password, for trying the product: username, what it is for.
ROLE_ACCOUNTS = [
    ("admin", "administrator (superuser)"),
    ("agent.mx", "service desk agent, Mexico"),
    ("agent.br", "service desk agent, Brazil (Portuguese)"),
    ("manager.mx", "manager of the Mexico service desk and field services"),
    ("owner", "incident management process owner"),
    ("smo", "SMO analyst (sees every region)"),
    ("enduser.co", "end user in Colombia"),
]

for _username, _purpose in ROLE_ACCOUNTS:
    add_login(_username, _purpose)

HOME_REGION = "mexico"
HOME_COUNTRY = "MX"


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


class People:
    """Creates people with believable, unique names through ``accounts.services``."""

    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.rng = ctx.random
        self.countries = ctx.data["countries"]
        self.users: dict = {}
        self.by_kind: dict[str, list[str]] = {}
        self.taken_names: set[tuple[str, str]] = set()

    def _name(self, country_code: str) -> tuple[str, str]:
        portuguese = self.countries[country_code].language == "pt"
        for _ in range(1000):
            if portuguese:
                first_names = self.rng.choice([PORTUGUESE_MEN, PORTUGUESE_WOMEN])
                first = self.rng.choice(first_names)
                last = " ".join(self.rng.sample(PORTUGUESE_SURNAMES, 2))
            else:
                first_names = self.rng.choice([SPANISH_MEN, SPANISH_WOMEN])
                first = self.rng.choice(first_names)
                last = " ".join(self.rng.sample(SPANISH_SURNAMES, 2))
            if (first, last) not in self.taken_names:
                self.taken_names.add((first, last))
                return first, last
        raise RuntimeError("ran out of demo names")

    def _username(self, first: str, last: str) -> str:
        base = f"{_ascii(first)}.{_ascii(last.split()[0])}"
        username, number = base, 1
        while username in self.users:
            number += 1
            username = f"{base}{number}"
        return username

    def add(
        self,
        kind: str,
        country_code: str,
        roles,
        *,
        job_title: str,
        username: str | None = None,
        password: str | None = None,
        is_superuser: bool = False,
    ):
        first, last = self._name(country_code)
        username = username or self._username(first, last)
        country = self.countries[country_code]
        user = services.create_user(
            username=username,
            email=f"{username}@{DEMO_DOMAIN}",
            password=password,
            first_name=first,
            last_name=last,
            roles=roles,
            country=country,
            language=country.language,
            time_zone=country.time_zone,
            job_title=job_title,
            is_superuser=is_superuser,
        )
        self.users[username] = user
        self.by_kind.setdefault(kind, []).append(username)
        return user

    def role_account(
        self,
        username: str,
        kind: str,
        country_code: str,
        roles,
        *,
        job_title: str,
        is_superuser: bool = False,
    ):
        return self.add(
            kind,
            country_code,
            roles,
            job_title=job_title,
            username=username,
            password=self.ctx.password,
            is_superuser=is_superuser,
        )

    def weighted_countries(self, count: int, codes: list[str]) -> list[str]:
        """``count`` country codes, at least one of each, the rest by employee share."""
        weights = [self.ctx.data["country_data"][code].weight for code in codes]
        spread = list(codes[:count])
        spread += self.rng.choices(codes, weights=weights, k=max(0, count - len(codes)))
        return spread


@step("accounts", after=["organization"])
def load_accounts(ctx: DemoContext) -> None:
    staffing = STAFFING[ctx.scale]
    people = People(ctx)
    regions = ctx.data["regions"]
    countries = ctx.data["countries"]
    country_codes = list(countries)
    region_countries = {
        code: [c for c in country_codes if countries[c].region_id == region.pk]
        for code, region in regions.items()
    }
    region_names = {code: region.name for code, region in regions.items()}

    # The administrator and the other accounts people try the product with.
    admin = people.role_account(
        "admin",
        "administrators",
        HOME_COUNTRY,
        [Role.ADMINISTRATOR],
        job_title="Itsmo administrator",
        is_superuser=True,
    )
    agent_mx = people.role_account(
        "agent.mx", "agents", "MX", [Role.AGENT], job_title="Service desk analyst"
    )
    agent_br = people.role_account(
        "agent.br", "agents", "BR", [Role.AGENT], job_title="Analista de service desk"
    )
    manager_mx = people.role_account(
        "manager.mx",
        "managers",
        "MX",
        [Role.AGENT, Role.GROUP_MANAGER],
        job_title="Service desk manager, Mexico",
    )
    people.role_account(
        "owner",
        "process_owners",
        HOME_COUNTRY,
        [Role.PROCESS_OWNER],
        job_title="Incident Management process owner",
    )
    people.role_account(
        "smo", "smo_analysts", HOME_COUNTRY, [Role.SMO_ANALYST], job_title="SMO analyst"
    )
    people.role_account(
        "enduser.co", "end_users", "CO", [Role.END_USER], job_title="Demand Planner"
    )

    for _ in range(staffing.administrators):
        people.add(
            "administrators", HOME_COUNTRY, [Role.ADMINISTRATOR], job_title="Itsmo administrator"
        )
    for _ in range(staffing.smo_analysts):
        people.add(
            "smo_analysts",
            people.rng.choice(["MX", "MX", "BR", "CO"]),
            [Role.SMO_ANALYST],
            job_title="SMO analyst",
        )
    for process in PROCESSES[1 : 1 + staffing.process_owners]:
        people.add(
            "process_owners",
            people.rng.choice(["MX", "BR", "CO", "AR"]),
            [Role.PROCESS_OWNER],
            job_title=f"{process} process owner",
        )

    # Managers: one per group, or one IT manager per region (and one global) at small scale.
    regional_managers = {HOME_REGION: manager_mx}
    services.set_scope(manager_mx, regions=[regions[HOME_REGION]])

    def regional_manager(region_code: str):
        if region_code not in regional_managers:
            country = region_countries[region_code][0]
            user = people.add(
                "managers",
                country,
                [Role.AGENT, Role.GROUP_MANAGER],
                job_title=f"IT service manager, {region_names[region_code]}",
            )
            if region_code == "global":
                services.set_scope(user, all_regions=True)
            else:
                services.set_scope(user, regions=[regions[region_code]])
            regional_managers[region_code] = user
        return regional_managers[region_code]

    def manager_for(region_code: str, country_code: str, title: str, *, everywhere=False):
        if not staffing.manager_per_group:
            if everywhere:
                return regional_manager("global")
            return regional_manager(region_code)
        user = people.add(
            "managers", country_code, [Role.AGENT, Role.GROUP_MANAGER], job_title=title
        )
        if everywhere:
            services.set_scope(user, all_regions=True)
        else:
            services.set_scope(user, regions=[regions[region_code]])
        return user

    region_countries["global"] = [HOME_COUNTRY]
    region_names["global"] = "global towers"

    def agents(
        count: int, country_pool: list[str], title: str, *, scope_regions=(), everywhere=False
    ) -> list:
        made = []
        for code in people.weighted_countries(count, country_pool)[:count]:
            user = people.add("agents", code, [Role.AGENT], job_title=title)
            if everywhere:
                services.set_scope(user, all_regions=True)
            elif scope_regions:
                services.set_scope(user, regions=scope_regions)
            made.append(user)
        return made

    groups = {}

    def group(
        code: str,
        name: str,
        tier: str,
        region_code: str,
        members: list,
        manager,
        *,
        country=None,
        description: str = "",
    ):
        region = regions.get(region_code)  # None: company-wide
        groups[code] = services.create_support_group(
            code=code,
            name=name,
            tier=tier,
            region=region,
            country=country,
            manager=manager,
            members=[manager, *members],
            email=f"{code}@{DEMO_DOMAIN}",
            description=description,
        )
        return groups[code]

    field_by_country: dict[str, list] = {}
    for region_code, region in list(regions.items()):
        pool = region_countries[region_code]
        name = region_names[region_code]
        # L1: one service desk per region.
        desk = agents(staffing.desk_agents, pool, "Service desk analyst", scope_regions=[region])
        if region_code == "mexico":
            desk.insert(0, agent_mx)
            services.set_scope(agent_mx, regions=[region])
        if region_code == "brazil":
            desk.insert(0, agent_br)
            services.set_scope(agent_br, regions=[region])
        group(
            f"sd-{region_code}",
            f"Service Desk {name}",
            Tier.L1,
            region_code,
            desk,
            manager_mx
            if region_code == "mexico"
            else manager_for(region_code, pool[0], f"Service desk manager, {name}"),
            description=f"Single point of contact for {name}, 24x5 in the region's languages.",
        )
        # Field services: one group per country.
        for country_code in pool:
            country = countries[country_code]
            field = agents(staffing.field_agents, [country_code], "Field services technician")
            field_by_country[country_code] = field
            manager = (
                manager_mx
                if country_code == "MX" and not staffing.manager_per_group
                else manager_for(region_code, country_code, f"Field services lead, {country.name}")
            )
            group(
                f"field-{country_code.lower()}",
                f"Field Services {country.name}",
                Tier.FIELD,
                region_code,
                field,
                manager,
                country=country,
                description=f"On-site support at the sites of {country.name}.",
            )
        # Regional L2 towers.
        for tower_code, tower_name, description in REGIONAL_TOWERS:
            if tower_code == "euc" and staffing.euc_agents == 0:
                members = [user for code in pool for user in field_by_country[code]][:3]
            else:
                count = staffing.network_agents if tower_code == "network" else staffing.euc_agents
                members = agents(count, pool, f"{tower_name} specialist", scope_regions=[region])
            group(
                f"{tower_code}-{region_code}",
                f"{tower_name} {name}",
                Tier.L2,
                region_code,
                members,
                manager_for(region_code, pool[0], f"{tower_name} lead, {name}"),
                description=description,
            )

    # Global L2 towers: company-wide groups (no region), visible to every agent.
    all_codes = [code for code in country_codes if code in ("MX", "BR", "CO", "AR", "CL")]
    for tower_code, tower_name, description in GLOBAL_TOWERS:
        members = agents(
            staffing.global_agents, all_codes, f"{tower_name} specialist", everywhere=True
        )
        group(
            tower_code,
            tower_name,
            Tier.L2,
            "global",
            members,
            manager_for(HOME_REGION, HOME_COUNTRY, f"{tower_name} manager", everywhere=True),
            description=description,
        )

    # Everybody else raises tickets.
    staff_count = len(people.users)
    end_users = max(staffing.users - staff_count, len(country_codes))
    for code in people.weighted_countries(end_users, country_codes)[:end_users]:
        people.add("end_users", code, [Role.END_USER], job_title=people.rng.choice(END_USER_TITLES))

    ctx.data.update(users=people.users, people=people.by_kind, groups=groups, admin=admin)
