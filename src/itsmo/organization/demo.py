"""Demo organisation: Sabores Unidos, a food & beverage company in 16 countries, 5 regions.

Adds to ``ctx.data``: ``regions`` and ``countries`` (by code), ``calendars`` (by country
code), ``sites`` (list), ``sites_by_country`` and ``business_units`` (by code).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.text import slugify

from itsmo.core.demo import COMPANY_NAME, DemoContext, step
from itsmo.organization import services
from itsmo.organization.models import SiteKind

REGIONS = [
    ("mexico", "Mexico"),
    ("caricam", "CARICAM"),
    ("andean", "Andean"),
    ("brazil", "Brazil"),
    ("south-cone", "South Cone"),
]


@dataclass(frozen=True)
class CountryData:
    code: str
    name: str
    region: str
    time_zone: str
    language: str
    #: Share of the company's employees, used to spread people across countries.
    weight: int


COUNTRIES = [
    CountryData("MX", "Mexico", "mexico", "America/Mexico_City", "es", 25),
    CountryData("GT", "Guatemala", "caricam", "America/Guatemala", "es", 3),
    CountryData("DO", "Dominican Republic", "caricam", "America/Santo_Domingo", "es", 3),
    CountryData("PR", "Puerto Rico", "caricam", "America/Puerto_Rico", "es", 2),
    CountryData("PA", "Panama", "caricam", "America/Panama", "es", 2),
    CountryData("CR", "Costa Rica", "caricam", "America/Costa_Rica", "es", 3),
    CountryData("HN", "Honduras", "caricam", "America/Tegucigalpa", "es", 2),
    CountryData("SV", "El Salvador", "caricam", "America/El_Salvador", "es", 2),
    CountryData("CO", "Colombia", "andean", "America/Bogota", "es", 8),
    CountryData("EC", "Ecuador", "andean", "America/Guayaquil", "es", 3),
    CountryData("PE", "Peru", "andean", "America/Lima", "es", 5),
    CountryData("VE", "Venezuela", "andean", "America/Caracas", "es", 3),
    CountryData("BR", "Brazil", "brazil", "America/Sao_Paulo", "pt", 20),
    CountryData("AR", "Argentina", "south-cone", "America/Argentina/Buenos_Aires", "es", 6),
    CountryData("UY", "Uruguay", "south-cone", "America/Montevideo", "es", 2),
    CountryData("CL", "Chile", "south-cone", "America/Santiago", "es", 5),
]

PLANT = SiteKind.PLANT
DC = SiteKind.DISTRIBUTION_CENTRE
OFFICE = SiteKind.OFFICE
DATA_CENTRE = SiteKind.DATA_CENTRE
BRANCH = SiteKind.SALES_BRANCH

#: ``country: [(kind, name, city)]``; the first office of a country is its head office.
SITES: dict[str, list[tuple[str, str, str]]] = {
    "MX": [
        (OFFICE, "Corporativo Ciudad de México", "Ciudad de México"),
        (DATA_CENTRE, "Centro de Datos Querétaro", "Querétaro"),
        (PLANT, "Planta Monterrey", "Monterrey"),
        (PLANT, "Planta Guadalajara", "Guadalajara"),
        (PLANT, "Planta Toluca", "Toluca"),
        (PLANT, "Planta Irapuato", "Irapuato"),
        (DC, "CD Querétaro", "Querétaro"),
        (DC, "CD Monterrey Norte", "Apodaca"),
        (DC, "CD Mérida", "Mérida"),
        (DC, "CD Tijuana", "Tijuana"),
        (BRANCH, "Sucursal Puebla", "Puebla"),
        (BRANCH, "Sucursal Veracruz", "Veracruz"),
    ],
    "GT": [
        (OFFICE, "Oficina Guatemala", "Ciudad de Guatemala"),
        (PLANT, "Planta Villa Nueva", "Villa Nueva"),
        (DC, "CD Mixco", "Mixco"),
    ],
    "DO": [
        (OFFICE, "Oficina Santo Domingo", "Santo Domingo"),
        (PLANT, "Planta Santiago", "Santiago de los Caballeros"),
        (DC, "CD Santo Domingo Este", "Santo Domingo Este"),
    ],
    "PR": [
        (OFFICE, "Oficina San Juan", "San Juan"),
        (DC, "CD Bayamón", "Bayamón"),
    ],
    "PA": [
        (OFFICE, "Oficina Ciudad de Panamá", "Ciudad de Panamá"),
        (DC, "CD Colón", "Colón"),
    ],
    "CR": [
        (OFFICE, "Oficina San José", "San José"),
        (PLANT, "Planta Cartago", "Cartago"),
        (DC, "CD Heredia", "Heredia"),
    ],
    "HN": [
        (OFFICE, "Oficina Tegucigalpa", "Tegucigalpa"),
        (PLANT, "Planta San Pedro Sula", "San Pedro Sula"),
    ],
    "SV": [
        (OFFICE, "Oficina San Salvador", "San Salvador"),
        (DC, "CD Soyapango", "Soyapango"),
    ],
    "CO": [
        (OFFICE, "Oficina Bogotá", "Bogotá"),
        (PLANT, "Planta Itagüí", "Itagüí"),
        (PLANT, "Planta Yumbo", "Yumbo"),
        (DC, "CD Bogotá Norte", "Bogotá"),
        (DC, "CD Barranquilla", "Barranquilla"),
        (BRANCH, "Sucursal Bucaramanga", "Bucaramanga"),
    ],
    "EC": [
        (OFFICE, "Oficina Quito", "Quito"),
        (PLANT, "Planta Guayaquil", "Guayaquil"),
        (DC, "CD Cuenca", "Cuenca"),
    ],
    "PE": [
        (OFFICE, "Oficina Lima", "Lima"),
        (PLANT, "Planta Lurín", "Lurín"),
        (DC, "CD Callao", "Callao"),
        (DC, "CD Arequipa", "Arequipa"),
    ],
    "VE": [
        (OFFICE, "Oficina Caracas", "Caracas"),
        (PLANT, "Planta Valencia", "Valencia"),
        (DC, "CD Maracaibo", "Maracaibo"),
    ],
    "BR": [
        (OFFICE, "Escritório São Paulo", "São Paulo"),
        (DATA_CENTRE, "Data Center Campinas", "Campinas"),
        (PLANT, "Fábrica Jundiaí", "Jundiaí"),
        (PLANT, "Fábrica Ponta Grossa", "Ponta Grossa"),
        (PLANT, "Fábrica Jaboatão", "Jaboatão dos Guararapes"),
        (DC, "CD Cajamar", "Cajamar"),
        (DC, "CD Contagem", "Contagem"),
        (DC, "CD Porto Alegre", "Porto Alegre"),
        (BRANCH, "Filial Salvador", "Salvador"),
        (BRANCH, "Filial Rio de Janeiro", "Rio de Janeiro"),
    ],
    "AR": [
        (OFFICE, "Oficina Buenos Aires", "Buenos Aires"),
        (PLANT, "Planta Pilar", "Pilar"),
        (PLANT, "Planta Córdoba", "Córdoba"),
        (DC, "CD Rosario", "Rosario"),
    ],
    "UY": [
        (OFFICE, "Oficina Montevideo", "Montevideo"),
        (DC, "CD Las Piedras", "Las Piedras"),
    ],
    "CL": [
        (OFFICE, "Oficina Santiago", "Santiago"),
        (PLANT, "Planta Quilicura", "Quilicura"),
        (DC, "CD Concepción", "Concepción"),
    ],
}

BUSINESS_UNITS = [
    ("snacks", "Snacks", "Chips, nuts, popcorn and extruded snacks."),
    ("beverages", "Beverages", "Soft drinks, juices, bottled water and ready-to-drink teas."),
    ("foods", "Foods", "Cereals, cookies, sauces and packaged meals."),
]

#: Monday to Friday (weekdays 0 to 4), 08:00 to 18:00 local time.
WORKING_HOURS = ((8, 0), (18, 0))
WORKING_DAYS = range(5)


@step("organization")
def load_organization(ctx: DemoContext) -> None:
    regions = {code: services.create_region(code=code, name=name) for code, name in REGIONS}
    countries = {}
    calendars = {}
    for data in COUNTRIES:
        calendar = services.create_standard_calendar(
            name=f"{data.name} business hours",
            time_zone=data.time_zone,
            holiday_country=data.code,
            hours=WORKING_HOURS,
            weekdays=WORKING_DAYS,
        )
        calendars[data.code] = calendar
        countries[data.code] = services.create_country(
            code=data.code,
            name=data.name,
            region=regions[data.region],
            time_zone=data.time_zone,
            language=data.language,
            calendar=calendar,
        )
    sites = []
    sites_by_country: dict[str, list] = {}
    for country_code, rows in SITES.items():
        for kind, name, city in rows:
            site = services.create_site(
                code=slugify(f"{country_code}-{name}"),
                name=name,
                kind=kind,
                country=countries[country_code],
                city=city,
            )
            sites.append(site)
            sites_by_country.setdefault(country_code, []).append(site)
    business_units = {
        code: services.create_business_unit(code=code, name=name, description=description)
        for code, name, description in BUSINESS_UNITS
    }
    ctx.data.update(
        company=COMPANY_NAME,
        regions=regions,
        countries=countries,
        country_data={data.code: data for data in COUNTRIES},
        calendars=calendars,
        sites=sites,
        sites_by_country=sites_by_country,
        business_units=business_units,
    )
