"""The write path of the service portfolio: business processes, services, offerings.

Portfolio changes are for administrators, process owners and SMO analysts; ``actor=None``
is the system (demo data, migrations). Each function validates before it writes, runs in
one transaction and journals what changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models, transaction

from itsmo.accounts.models import Role, SupportGroup, User
from itsmo.core import config_cache, journal
from itsmo.core.errors import PermissionDenied, ValidationFailed
from itsmo.core.versioning import save_versioned
from itsmo.organization.models import BusinessCalendar, Country

from .forms_schema import validate_form_definition
from .models import (
    SERVICE_LIFECYCLE,
    BusinessProcess,
    Criticality,
    Lifecycle,
    RequestOffering,
    Service,
    ServiceKind,
    ServiceProcess,
)

PORTFOLIO_ROLES = (Role.ADMINISTRATOR, Role.PROCESS_OWNER, Role.SMO_ANALYST)
CODE_PATTERN = re.compile(r"^[-a-zA-Z0-9_]+$")


def _require_portfolio_manager(actor) -> None:
    if actor is not None and not actor.has_role(*PORTFOLIO_ROLES):
        raise PermissionDenied(
            "only administrators, process owners and SMO analysts may change the service portfolio"
        )


# --- field rules ------------------------------------------------------------------------------


def _text(max_length: int | None = None, *, required: bool = False):
    def check(name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise ValidationFailed(f"{name} must be text", field=name)
        value = value.strip()
        if required and not value:
            raise ValidationFailed(f"{name} is required", field=name)
        if max_length and len(value) > max_length:
            raise ValidationFailed(f"at most {max_length} characters", field=name)
        return value

    return check


def _code(max_length: int):
    text = _text(max_length, required=True)

    def check(name: str, value: Any) -> str:
        value = text(name, value)
        if not CODE_PATTERN.match(value):
            raise ValidationFailed("letters, digits, '-' and '_' only", field=name)
        return value

    return check


def _choice(values: Iterable):
    allowed = list(values)

    def check(name: str, value: Any):
        if value not in allowed or isinstance(value, bool):
            raise ValidationFailed(
                f"{name} must be one of {', '.join(map(str, allowed))}", field=name
            )
        return value

    return check


def _instance(model: type[models.Model], *, nullable: bool = True):
    def check(name: str, value: Any):
        if value is None and nullable:
            return None
        if not isinstance(value, model):
            raise ValidationFailed(f"unknown {model._meta.verbose_name}", field=name)
        return value

    return check


def _boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValidationFailed(f"{name} is true or false", field=name)
    return value


def _clean(rules: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    for name in values:
        if name not in rules:
            raise ValidationFailed(f"{name!r} cannot be set", field=name)
    return {name: rules[name](name, value) for name, value in values.items()}


def _unique(model, field: str, value: Any, exclude: int | None) -> None:
    query = model.objects.filter(**{f"{field}__iexact": value})
    if exclude is not None:
        query = query.exclude(pk=exclude)
    if query.exists():
        raise ValidationFailed(f"{field} {value!r} is taken", field=field)


def _update(
    record, rules, values: Mapping[str, Any], *, actor, version: int | None, unique: Iterable[str]
) -> dict[str, tuple[Any, Any]]:
    cleaned = _clean(rules, values)
    for field in unique:
        if field in cleaned:
            _unique(type(record), field, cleaned[field], record.pk)
    changes = {
        name: (getattr(record, name), value)
        for name, value in cleaned.items()
        if getattr(record, name) != value
    }
    for name, (_, value) in changes.items():
        setattr(record, name, value)
    save_versioned(record, version, list(changes))
    journal.record_changes(record, actor, changes)
    return changes


# --- business processes -----------------------------------------------------------------------

PROCESS_RULES = {
    "code": _code(40),
    "name": _text(150, required=True),
    "criticality": _choice(Criticality.values),
    "owner": _instance(User),
    "description": _text(),
    "is_active": _boolean,
}


@transaction.atomic
def create_business_process(
    *, actor, code: str, name: str, criticality: int = 3, **values: Any
) -> BusinessProcess:
    _require_portfolio_manager(actor)
    cleaned = _clean(
        PROCESS_RULES, {"code": code, "name": name, "criticality": criticality, **values}
    )
    _unique(BusinessProcess, "code", cleaned["code"], None)
    _unique(BusinessProcess, "name", cleaned["name"], None)
    process = BusinessProcess.objects.create(**cleaned)
    journal.record_created(process, actor)
    return process


@transaction.atomic
def update_business_process(
    process: BusinessProcess, *, actor, version: int | None, **values: Any
) -> BusinessProcess:
    _require_portfolio_manager(actor)
    _update(process, PROCESS_RULES, values, actor=actor, version=version, unique=("code", "name"))
    return process


# --- services ---------------------------------------------------------------------------------

SERVICE_RULES = {
    "code": _code(60),
    "name": _text(150, required=True),
    "kind": _choice(ServiceKind.values),
    "owner": _instance(User),
    "support_group": _instance(SupportGroup),
    "criticality": _choice(Criticality.values),
    "service_hours": _instance(BusinessCalendar),
    "description": _text(),
    "portal_description": _text(),
    "is_portal_visible": _boolean,
}


def _countries(values: Any) -> list[Country]:
    values = list(values or [])
    if not all(isinstance(c, Country) for c in values):
        raise ValidationFailed("unknown country", field="countries")
    return values


@transaction.atomic
def create_service(
    *,
    actor,
    code: str,
    name: str,
    kind: str = ServiceKind.BUSINESS,
    lifecycle: str = Lifecycle.PIPELINE,
    countries: Iterable[Country] = (),
    **values: Any,
) -> Service:
    _require_portfolio_manager(actor)
    cleaned = _clean(SERVICE_RULES, {"code": code, "name": name, "kind": kind, **values})
    _choice(Lifecycle.values)("lifecycle", lifecycle)
    country_list = _countries(countries)
    _unique(Service, "code", cleaned["code"], None)
    _unique(Service, "name", cleaned["name"], None)
    service = Service.objects.create(lifecycle=lifecycle, **cleaned)
    service.countries.set(country_list)
    journal.record_created(service, actor)
    return service


@transaction.atomic
def update_service(service: Service, *, actor, version: int | None, **values: Any) -> Service:
    """Change fields; ``countries`` replaces the list; ``lifecycle`` follows the table."""
    _require_portfolio_manager(actor)
    countries = values.pop("countries", None)
    lifecycle = values.pop("lifecycle", None)
    country_list = _countries(countries) if countries is not None else None
    old_lifecycle = service.lifecycle
    if lifecycle is not None and lifecycle != service.lifecycle:
        _choice(Lifecycle.values)("lifecycle", lifecycle)
        SERVICE_LIFECYCLE.apply(service, lifecycle)
        values_fields = ["lifecycle"]
    else:
        values_fields = []
    cleaned = _clean(SERVICE_RULES, values)
    for field in ("code", "name"):
        if field in cleaned:
            _unique(Service, field, cleaned[field], service.pk)
    changes = {
        name: (getattr(service, name), value)
        for name, value in cleaned.items()
        if getattr(service, name) != value
    }
    for name, (_, value) in changes.items():
        setattr(service, name, value)
    save_versioned(service, version, [*changes, *values_fields])
    journal.record_changes(service, actor, changes)
    if values_fields:
        journal.record_state_change(service, actor, "lifecycle", old_lifecycle, service.lifecycle)
    if country_list is not None:
        before = sorted(c.code for c in service.countries.all())
        service.countries.set(country_list)
        journal.record_changes(
            service,
            actor,
            {"countries": (", ".join(before), ", ".join(sorted(c.code for c in country_list)))},
        )
    return service


@transaction.atomic
def transition_service(
    service: Service, to: str, *, actor, version: int | None = None, note: str = ""
) -> Service:
    _require_portfolio_manager(actor)
    old, new = SERVICE_LIFECYCLE.apply(service, to)
    save_versioned(service, version, ["lifecycle"])
    journal.record_state_change(service, actor, "lifecycle", old, new, note=note)
    return service


def retire_service(
    service: Service, *, actor, version: int | None = None, note: str = ""
) -> Service:
    return transition_service(service, Lifecycle.RETIRED, actor=actor, version=version, note=note)


@transaction.atomic
def set_business_processes(
    service: Service, weights: Mapping[BusinessProcess, int], *, actor
) -> None:
    """Replace the business processes ``service`` supports, each with a weight 0-100."""
    _require_portfolio_manager(actor)
    for process, weight in weights.items():
        if not isinstance(process, BusinessProcess):
            raise ValidationFailed("unknown business process", field="business_processes")
        if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= 100:
            raise ValidationFailed(
                f"weight for {process} must be 0-100", field=f"business_processes.{process.code}"
            )
    before = {
        link.business_process.code: link.weight
        for link in service.process_links.select_related("business_process")
    }
    service.process_links.all().delete()
    ServiceProcess.objects.bulk_create(
        ServiceProcess(service=service, business_process=p, weight=w) for p, w in weights.items()
    )
    after = {p.code: w for p, w in weights.items()}

    def describe(links: dict[str, int]) -> str:
        return ", ".join(f"{code} ({weight})" for code, weight in sorted(links.items()))

    journal.record_changes(
        service, actor, {"business_processes": (describe(before), describe(after))}
    )


# --- request offerings ------------------------------------------------------------------------


def _form(name: str, value: Any) -> list[dict[str, Any]]:
    return validate_form_definition(value)


OFFERING_RULES = {
    "code": _code(60),
    "name": _text(150, required=True),
    "service": _instance(Service, nullable=False),
    "description": _text(),
    "form_definition": _form,
    "fulfilment_group": _instance(SupportGroup),
    "portal_category": _text(100),
    "is_active": _boolean,
}


@transaction.atomic
def create_request_offering(
    *, actor, code: str, name: str, service: Service, **values: Any
) -> RequestOffering:
    _require_portfolio_manager(actor)
    cleaned = _clean(OFFERING_RULES, {"code": code, "name": name, "service": service, **values})
    _unique(RequestOffering, "code", cleaned["code"], None)
    if cleaned.get("fulfilment_group") is None and service.support_group_id:
        cleaned["fulfilment_group"] = service.support_group
    offering = RequestOffering.objects.create(**cleaned)
    journal.record_created(offering, actor)
    return offering


@transaction.atomic
def update_request_offering(
    offering: RequestOffering, *, actor, version: int | None, **values: Any
) -> RequestOffering:
    _require_portfolio_manager(actor)
    _update(offering, OFFERING_RULES, values, actor=actor, version=version, unique=("code",))
    return offering


# -- reference reads (kept per process) ------------------------------------------------------


def service_by_code(code: str | None) -> Service | None:
    """The service whose code is ``code`` (any case), with its support group, from this
    process's reference cache (see :mod:`itsmo.core.config_cache`): each new incident names
    one. The group's manager is not kept (people change more often than the catalogue)."""
    if not code:
        return None
    services = config_cache.cached(
        "catalog.services",
        lambda: {s.code.lower(): s for s in Service.objects.select_related("support_group")},
    )
    return services.get(code.strip().lower())
