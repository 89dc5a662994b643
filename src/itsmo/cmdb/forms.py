"""Forms of the CMDB pages: the CI list filters and the CI edit form.

Forms parse and present; the rules (identity, attribute types, lifecycle) live in
``cmdb.services`` and come back as ``DomainError`` that :meth:`CIForm.add_domain_error`
puts on the right field.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from itsmo.accounts.models import SupportGroup
from itsmo.catalog.models import Service
from itsmo.organization.models import Country

from .models import CI, CI_LIFECYCLE, AttributeType, CIClass, CIStatus, Environment

ATTRIBUTE_PREFIX = "attr_"


class CIFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Name, number, serial or asset tag")}
        ),
    )
    ci_class = forms.ModelChoiceField(
        label=_("Class"),
        required=False,
        queryset=CIClass.objects.order_by("name"),
        to_field_name="code",
        empty_label=_("All classes"),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *CIStatus.choices]
    )
    country = forms.ModelChoiceField(
        label=_("Country"),
        required=False,
        queryset=Country.objects.order_by("name"),
        to_field_name="code",
        empty_label=_("All countries"),
    )
    service = forms.ModelChoiceField(
        label=_("Service"),
        required=False,
        queryset=Service.objects.order_by("name"),
        to_field_name="code",
        empty_label=_("All services"),
    )


def _attribute_field(attribute) -> forms.Field:
    common = {"label": attribute.label, "required": False, "help_text": attribute.help_text}
    if attribute.type == AttributeType.BOOLEAN:
        return forms.NullBooleanField(
            widget=forms.Select(choices=[("unknown", "—"), ("true", _("Yes")), ("false", _("No"))]),
            **common,
        )
    if attribute.type == AttributeType.CHOICE:
        options = [("", "—"), *[(value, value.replace("_", " ")) for value in attribute.choices]]
        return forms.ChoiceField(choices=options, **common)
    if attribute.type == AttributeType.DATE:
        return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    return forms.CharField(max_length=1000, **common)


class CIForm(forms.Form):
    """Edit a CI's identity and its class attributes; ``version`` guards against overwrites."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    name = forms.CharField(label=_("Name"), max_length=200)
    serial = forms.CharField(label=_("Serial number"), max_length=100, required=False)
    asset_tag = forms.CharField(label=_("Asset tag"), max_length=100, required=False)
    status = forms.ChoiceField(label=_("Status"))
    environment = forms.ChoiceField(label=_("Environment"), choices=Environment.choices)
    owner_group = forms.ModelChoiceField(
        label=_("Owner group"), required=False, queryset=SupportGroup.objects.order_by("name")
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, data=None, *, ci: CI, user, **kwargs: Any) -> None:
        initial = {
            "version": ci.version,
            "name": ci.name,
            "serial": ci.serial,
            "asset_tag": ci.asset_tag,
            "status": ci.status,
            "environment": ci.environment,
            "owner_group": ci.owner_group_id,
            "description": ci.description,
        }
        self.schema = ci.ci_class.schema()
        for name in self.schema:
            value = (ci.attributes or {}).get(name)
            initial[ATTRIBUTE_PREFIX + name] = (
                ""
                if value is None
                else (("true" if value else "false") if isinstance(value, bool) else value)
            )
        super().__init__(data, initial=initial, **kwargs)
        self.ci = ci
        allowed = {ci.status, *CI_LIFECYCLE.available(ci)}
        self.fields["status"].choices = [
            (value, label) for value, label in CIStatus.choices if value in allowed
        ]
        for name, attribute in sorted(self.schema.items(), key=lambda i: (i[1].position, i[0])):
            self.fields[ATTRIBUTE_PREFIX + name] = _attribute_field(attribute)

    def identity_fields(self):
        return [
            self[name]
            for name in (
                "name",
                "serial",
                "asset_tag",
                "status",
                "environment",
                "owner_group",
                "description",
            )
        ]

    def attribute_fields(self):
        return [self[name] for name in self.fields if name.startswith(ATTRIBUTE_PREFIX)]

    def changes(self) -> dict[str, Any]:
        """What differs from the CI, as keyword arguments of ``services.update_ci``."""
        data = self.cleaned_data
        values: dict[str, Any] = {}
        for name in ("name", "serial", "asset_tag", "status", "environment", "description"):
            if data[name] != getattr(self.ci, name):
                values[name] = data[name]
        if (data["owner_group"].pk if data["owner_group"] else None) != self.ci.owner_group_id:
            values["owner_group"] = data["owner_group"]
        attributes = {}
        for name in self.schema:
            value = data.get(ATTRIBUTE_PREFIX + name)
            if value not in (None, ""):
                attributes[name] = value
        if attributes != (self.ci.attributes or {}):
            values["attributes"] = attributes
        return values

    def add_domain_error(self, error) -> None:
        field = error.field or None
        if field and field.startswith("attributes."):
            field = ATTRIBUTE_PREFIX + field.split(".", 1)[1]
        if field not in self.fields:
            field = None
        self.add_error(field, error.message)
