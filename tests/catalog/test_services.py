"""The portfolio write path."""

from __future__ import annotations

import pytest

from itsmo.catalog import services as catalog
from itsmo.catalog.forms_schema import validate_form_definition
from itsmo.catalog.models import BusinessProcess, RequestOffering, Service, ServiceProcess
from itsmo.core.errors import (
    PermissionDenied,
    StaleVersion,
    TransitionNotAllowed,
    ValidationFailed,
)
from itsmo.core.models import JournalEntry


def _fields(record):
    return set(JournalEntry.objects.for_record(record).values_list("kind", "field"))


def test_create_service_with_processes(route_sales, sales, colombia):
    assert sorted(c.code for c in route_sales.countries.all()) == ["BR", "CO", "MX"]
    link = ServiceProcess.objects.get(service=route_sales)
    assert (link.business_process, link.weight) == (sales, 80)
    assert {("created", ""), ("field_change", "business_processes")} <= _fields(route_sales)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"code": "has space"}, "code"),
        ({"name": "  "}, "name"),
        ({"kind": "magic"}, "kind"),
        ({"criticality": 7}, "criticality"),
        ({"is_portal_visible": "yes"}, "is_portal_visible"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_invalid_service_changes_nothing(db, values, field):
    arguments = {"code": "mail", "name": "Corporate E-mail", **values}
    with pytest.raises(ValidationFailed) as error:
        catalog.create_service(actor=None, **arguments)
    assert error.value.field == field
    assert not Service.objects.exists() and not JournalEntry.objects.exists()


def test_duplicate_code_is_refused(route_sales):
    with pytest.raises(ValidationFailed) as error:
        catalog.create_service(actor=None, code="ROUTE-SALES", name="Other")
    assert error.value.field == "code"


def test_update_with_version_and_lifecycle(route_sales, mexico):
    catalog.update_service(
        route_sales,
        actor=None,
        version=route_sales.version,
        name="Route Sales",
        countries=[mexico],
        lifecycle="retired",
    )
    route_sales.refresh_from_db()
    assert route_sales.name == "Route Sales" and route_sales.lifecycle == "retired"
    assert [c.code for c in route_sales.countries.all()] == ["MX"]
    assert {
        ("field_change", "name"),
        ("state_change", "lifecycle"),
        ("field_change", "countries"),
    } <= _fields(route_sales)
    with pytest.raises(TransitionNotAllowed):
        catalog.transition_service(route_sales, "catalogue", actor=None)
    with pytest.raises(StaleVersion):
        catalog.update_service(route_sales, actor=None, version=1, name="Again")


def test_weights_are_0_to_100(route_sales, sales):
    with pytest.raises(ValidationFailed) as error:
        catalog.set_business_processes(route_sales, {sales: 101}, actor=None)
    assert error.value.field == "business_processes.sales"
    assert ServiceProcess.objects.get(service=route_sales).weight == 80


def test_only_portfolio_managers_change_the_portfolio(agent_mexico, smo_analyst):
    with pytest.raises(PermissionDenied):
        catalog.create_business_process(actor=agent_mexico, code="hr", name="HR")
    process = catalog.create_business_process(actor=smo_analyst, code="hr", name="HR")
    catalog.update_business_process(process, actor=smo_analyst, version=1, criticality=2)
    assert BusinessProcess.objects.get(code="hr").criticality == 2


FORM = [
    {
        "name": "model",
        "label": "Model",
        "type": "choice",
        "required": True,
        "options": ["14 inch", "16 inch"],
    },
    {"name": "needed_by", "label": "Needed by", "type": "date"},
]


def test_request_offering(route_sales, desk_mexico):
    route_sales.support_group = desk_mexico
    route_sales.save()
    offering = catalog.create_request_offering(
        actor=None,
        code="new-laptop",
        name="New laptop",
        service=route_sales,
        form_definition=FORM,
        portal_category="Hardware",
    )
    assert offering.fulfilment_group == desk_mexico
    assert offering.form_definition[1]["required"] is False


@pytest.mark.parametrize(
    ("definition", "field"),
    [
        ({"name": "x"}, "form_definition"),
        ([{"name": "Bad Name", "label": "x", "type": "text"}], "form_definition[0].name"),
        ([{"name": "a", "label": "x", "type": "colour"}], "form_definition[0].type"),
        ([{"name": "a", "label": "x", "type": "choice"}], "form_definition[0].options"),
        (
            [{"name": "a", "label": "x", "type": "text", "options": ["y"]}],
            "form_definition[0].options",
        ),
        (
            [
                {"name": "a", "label": "x", "type": "text"},
                {"name": "a", "label": "y", "type": "text"},
            ],
            "form_definition[1].name",
        ),
        (
            [{"name": "a", "label": "x", "type": "text", "required": "yes"}],
            "form_definition[0].required",
        ),
        ([{"name": "a", "label": "x", "type": "text", "colour": 1}], "form_definition[0].colour"),
    ],
)
def test_form_definition_schema(definition, field):
    with pytest.raises(ValidationFailed) as error:
        validate_form_definition(definition)
    assert error.value.field == field


def test_invalid_offering_changes_nothing(route_sales):
    with pytest.raises(ValidationFailed):
        catalog.create_request_offering(
            actor=None, code="x", name="X", service=route_sales, form_definition=[{"name": "a"}]
        )
    assert not RequestOffering.objects.exists()
