"""Forms of the service-level pages: a definition, and the compliance report's filters.

Forms parse and check the shape of what was typed; the rules (a target is required, an
OLA measures a group…) live in ``services`` and come back onto the field they name.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itsmo.accounts.models import SupportGroup
from itsmo.catalog.models import Lifecycle, Service
from itsmo.incidents.models import Priority, Status
from itsmo.organization.models import BusinessCalendar, BusinessUnit, Country, Region

from .models import DefinitionKind, Metric, PriorityChange, SLADefinition
from .services import EDITABLE_DEFINITION_FIELDS


def _thresholds(text: str) -> list[int]:
    values = []
    for part in text.replace(";", ",").split(","):
        part = part.strip().rstrip("%").strip()
        if not part:
            continue
        if not part.isdigit():
            raise forms.ValidationError(
                _("Write whole percentages separated by commas, such as 50, 75, 90.")
            )
        values.append(int(part))
    return values


class DefinitionForm(forms.Form):
    """Every field of a definition; ``kind`` only when creating one."""

    name = forms.CharField(label=_("Name"), max_length=150)
    kind = forms.ChoiceField(label=_("Kind"), choices=DefinitionKind.choices)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    service = forms.ModelChoiceField(
        label=_("Service"), queryset=Service.objects.none(), required=False, empty_label=_("Any")
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        choices=[("", _("Any")), *Priority.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    country = forms.ModelChoiceField(
        label=_("Country"), queryset=Country.objects.none(), required=False, empty_label=_("Any")
    )
    region = forms.ModelChoiceField(
        label=_("Region"), queryset=Region.objects.none(), required=False, empty_label=_("Any")
    )
    business_unit = forms.ModelChoiceField(
        label=_("Customer business unit"),
        queryset=BusinessUnit.objects.none(),
        required=False,
        empty_label=_("Any"),
    )
    support_group = forms.ModelChoiceField(
        label=_("Support group (OLA)"),
        queryset=SupportGroup.objects.none(),
        required=False,
        empty_label=_("Whichever group holds the record"),
    )
    response_target_minutes = forms.IntegerField(
        label=_("Response target (business minutes)"), min_value=1, required=False
    )
    resolution_target_minutes = forms.IntegerField(
        label=_("Resolution target (business minutes)"), min_value=1, required=False
    )
    calendar = forms.ModelChoiceField(
        label=_("Calendar"),
        queryset=BusinessCalendar.objects.none(),
        required=False,
        empty_label=_("The record country's calendar"),
    )
    pause_states = forms.MultipleChoiceField(
        label=_("Pause in states"),
        choices=[(s.value, s.label) for s in (Status.NEW, Status.IN_PROGRESS, Status.ON_HOLD)],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    on_priority_change = forms.ChoiceField(
        label=_("On priority change"), choices=PriorityChange.choices
    )
    warning_thresholds = forms.CharField(
        label=_("Warning thresholds (%)"),
        required=False,
        help_text=_("Whole percentages of the target, separated by commas."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False)

    def __init__(self, *args, definition: SLADefinition | None = None, **kwargs):
        if definition is not None:
            kwargs.setdefault("initial", self.initial_of(definition))
        super().__init__(*args, **kwargs)
        self.definition = definition
        self.fields["service"].queryset = Service.objects.exclude(
            lifecycle=Lifecycle.RETIRED
        ).order_by("name")
        self.fields["country"].queryset = Country.objects.order_by("name")
        self.fields["region"].queryset = Region.objects.order_by("name")
        self.fields["business_unit"].queryset = BusinessUnit.objects.order_by("name")
        self.fields["support_group"].queryset = SupportGroup.objects.filter(
            is_active=True
        ).order_by("name")
        self.fields["calendar"].queryset = BusinessCalendar.objects.order_by("name")
        if definition is not None:
            del self.fields["kind"]  # fixed once clocks exist of it
        else:
            self.fields["is_active"].initial = True
            self.fields["pause_states"].initial = [Status.ON_HOLD]
            self.fields["warning_thresholds"].initial = "50, 75, 90"

    @staticmethod
    def initial_of(definition: SLADefinition) -> dict:
        initial = {name: getattr(definition, name) for name in EDITABLE_DEFINITION_FIELDS}
        initial["warning_thresholds"] = ", ".join(str(t) for t in definition.warning_thresholds)
        return initial

    def clean_warning_thresholds(self) -> list[int]:
        return _thresholds(self.cleaned_data["warning_thresholds"])

    def values(self) -> dict:
        """The cleaned values, as ``services`` takes them."""
        return dict(self.cleaned_data)

    def changes(self) -> dict:
        """The values that differ from the definition being edited."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if getattr(self.definition, name) != value
        }


GROUP_BY = [
    ("service", _("Service")),
    ("priority", _("Priority")),
    ("group", _("Support group")),
    ("country", _("Country")),
    ("region", _("Region")),
    ("month", _("Month")),
    ("definition", _("Definition")),
]


def _first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


class ComplianceForm(forms.Form):
    """The report's period (dates in the reader's time zone, the end included), what to
    measure and how to break it down. Invalid: this month's SLA targets by service."""

    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[(DefinitionKind.SLA, "SLA"), (DefinitionKind.OLA, "OLA")]
    )
    metric = forms.ChoiceField(
        label=_("Target"),
        choices=[
            ("", _("Response and resolution")),
            (Metric.RESPONSE, Metric.RESPONSE.label),
            (Metric.RESOLUTION, Metric.RESOLUTION.label),
        ],
        required=False,
    )
    group_by = forms.ChoiceField(label=_("By"), choices=GROUP_BY)

    def __init__(self, query=None, **kwargs):
        # Always bound, the blanks filled with the defaults, so that the fields show the
        # report on the page: this month (to today) of SLA targets, by service.
        today = timezone.localdate()
        data = query.copy() if query is not None else {}
        for name, default in (
            ("start", _first_of_month(today).isoformat()),
            ("end", today.isoformat()),
            ("kind", DefinitionKind.SLA),
            ("group_by", "service"),
        ):
            if not data.get(name):
                data[name] = default
        super().__init__(data, **kwargs)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end comes before the start."))
        return data

    def report(self) -> dict:
        """Period (aware datetimes, end exclusive), kind, metric and dimension to report."""
        today = timezone.localdate()
        data = self.cleaned_data if self.is_valid() else {}
        start = data.get("start") or _first_of_month(today)
        end = data.get("end") or today
        kind = data.get("kind") or DefinitionKind.SLA
        metric = data.get("metric") or None
        if kind == DefinitionKind.OLA:
            metric = None
        return {
            "start_date": start,
            "end_date": end,
            "start": _midnight(start),
            "end": _midnight(end + dt.timedelta(days=1)),
            "kind": kind,
            "metric": metric,
            "group_by": data.get("group_by") or "service",
        }


def _midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class CalendarExceptionForm(forms.Form):
    """A custom day of a business calendar: closed (plant shutdown) or, on a public
    holiday, worked as normal."""

    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    name = forms.CharField(label=_("Name"), max_length=100)
    is_working_day = forms.BooleanField(
        label=_("Worked as a normal day"),
        required=False,
        help_text=_("Tick to work on a day the public calendar marks as a holiday."),
    )
