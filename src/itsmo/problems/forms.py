"""Forms of the problem pages. They parse what a person typed; the rules of the record
(guards, versions) stay in ``services`` and come back as form errors."""

from __future__ import annotations

import re

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from itsmo.accounts.models import STAFF_ROLES, SupportGroup, User
from itsmo.catalog.models import Lifecycle, Service
from itsmo.changes.models import Change
from itsmo.cmdb.models import CI
from itsmo.incidents.models import Impact, Priority, Urgency
from itsmo.organization.models import Country

from .models import Problem, RcaMethod, ResolutionCode, Status, TaskStatus


def staff_people() -> QuerySet:
    return (
        User.objects.filter(is_active=True, role_grants__role__in=sorted(STAFF_ROLES))
        .distinct()
        .order_by("display_name", "username")
    )


def groups(user) -> QuerySet:
    return SupportGroup.objects.visible_to(user).filter(is_active=True).order_by("name")


def services_list() -> QuerySet:
    return Service.objects.exclude(lifecycle=Lifecycle.RETIRED).order_by("name")


def countries(user) -> QuerySet:
    scope = user.scope()
    found = Country.objects.order_by("name")
    return found if scope.is_global else found.filter(pk__in=scope.country_ids)


def split_numbers(value: str) -> list[str]:
    return [n.upper() for n in re.split(r"[\s,;]+", value or "") if n.strip()]


def _records(model, value: str, label, queryset=None) -> list:
    found = []
    for number in split_numbers(value):
        record = (queryset if queryset is not None else model.objects).filter(number=number).first()
        if record is None:
            raise forms.ValidationError(
                _("No %(record)s %(number)s.") % {"record": label, "number": number}
            )
        found.append(record)
    return found


class ProblemFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Number or text")}),
    )
    state = forms.ChoiceField(label=_("State"), required=False)
    priority = forms.ChoiceField(
        label=_("Priority"),
        required=False,
        choices=[("", _("Any"))] + [(v, f"P{v}") for v in Priority.values],
    )
    service = forms.ModelChoiceField(
        label=_("Service"), required=False, queryset=None, empty_label=_("Any")
    )
    country = forms.ModelChoiceField(
        label=_("Country"), required=False, queryset=None, empty_label=_("Any")
    )
    mine = forms.BooleanField(label=_("Mine"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [
            ("", _("Any")),
            ("open", _("Open")),
            *list(Status.choices),
        ]
        self.fields["service"].queryset = services_list()
        self.fields["country"].queryset = countries(user)

    def filters(self) -> dict:
        return self.cleaned_data if self.is_valid() else {}

    def is_filtered(self) -> bool:
        return any(self.filters().values())


class ProblemForm(forms.Form):
    """Opening a problem, and the editable fields of the record (with ``version``)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    impact = forms.TypedChoiceField(
        label=_("Impact"), choices=Impact.choices, coerce=int, initial=2
    )
    urgency = forms.TypedChoiceField(
        label=_("Urgency"), choices=Urgency.choices, coerce=int, initial=2
    )
    service = forms.ModelChoiceField(label=_("Service"), required=False, queryset=None)
    cis = forms.CharField(
        label=_("Configuration items"),
        required=False,
        help_text=_("CI numbers, separated by commas."),
        widget=forms.TextInput(attrs={"placeholder": "CI…"}),
    )
    country = forms.ModelChoiceField(
        label=_("Country"),
        required=False,
        queryset=None,
        help_text=_("Empty for a problem that spans countries."),
    )
    problem_manager = forms.ModelChoiceField(
        label=_("Problem manager"), required=False, queryset=None
    )
    assignment_group = forms.ModelChoiceField(
        label=_("Assignment group"), required=False, queryset=None
    )

    def __init__(self, *args, user, problem: Problem | None = None, **kwargs):
        if problem is not None and not args and "data" not in kwargs:
            kwargs["initial"] = self.initial_for(problem)
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["service"].queryset = services_list()
        self.fields["country"].queryset = countries(user)
        self.fields["problem_manager"].queryset = staff_people()
        self.fields["assignment_group"].queryset = groups(user)

    @staticmethod
    def initial_for(problem: Problem) -> dict:
        return {
            "version": problem.version,
            "title": problem.title,
            "description": problem.description,
            "impact": problem.impact,
            "urgency": problem.urgency,
            "service": problem.service_id,
            "cis": ", ".join(problem.cis.values_list("number", flat=True)),
            "country": problem.country_id,
            "problem_manager": problem.problem_manager_id,
            "assignment_group": problem.assignment_group_id,
        }

    def clean_cis(self) -> list[CI]:
        return _records(
            CI, self.cleaned_data.get("cis", ""), _("CI"), CI.objects.visible_to(self.user)
        )


class AnalysisForm(forms.Form):
    """Root-cause analysis, workaround, fixing changes and the resolution."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    rca_method = forms.ChoiceField(
        label=_("Analysis method"),
        required=False,
        choices=[("", "—"), *RcaMethod.choices],
    )
    root_cause = forms.CharField(
        label=_("Root cause"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    workaround = forms.CharField(
        label=_("Workaround"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    fixing_changes = forms.CharField(
        label=_("Fixing changes"),
        required=False,
        help_text=_("Change numbers, separated by commas."),
        widget=forms.TextInput(attrs={"placeholder": "CHG…"}),
    )

    def __init__(self, *args, problem: Problem | None = None, **kwargs):
        if problem is not None and not args and "data" not in kwargs:
            kwargs["initial"] = {
                "version": problem.version,
                "rca_method": problem.rca_method,
                "root_cause": problem.root_cause,
                "workaround": problem.workaround,
                "fixing_changes": ", ".join(
                    problem.fixing_changes.values_list("number", flat=True)
                ),
            }
        super().__init__(*args, **kwargs)

    def clean_fixing_changes(self) -> list[Change]:
        return _records(Change, self.cleaned_data.get("fixing_changes", ""), _("change"))


class TransitionForm(forms.Form):
    to = forms.ChoiceField(choices=Status.choices, widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput)
    resolution_code = forms.ChoiceField(
        label=_("Resolution code"),
        required=False,
        choices=[("", _("— from the fixing change —")), *ResolutionCode.choices],
    )
    resolution_notes = forms.CharField(
        label=_("Resolution notes (the reason, without a fixing change)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class LinkIncidentsForm(forms.Form):
    numbers = forms.CharField(
        label=_("Incidents"),
        help_text=_("Incident numbers, separated by commas or spaces."),
        widget=forms.TextInput(attrs={"placeholder": "INC…"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_numbers(self):
        from itsmo.incidents.models import Incident

        found = _records(
            Incident,
            self.cleaned_data.get("numbers", ""),
            _("incident"),
            Incident.objects.visible_to(self.user),
        )
        if not found:
            raise forms.ValidationError(_("Give at least one incident number."))
        return found


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Task"), max_length=200)
    owner = forms.ModelChoiceField(label=_("Owner"), required=False, queryset=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff_people()


class TaskStateForm(forms.Form):
    status = forms.ChoiceField(choices=TaskStatus.choices)


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Work note"), max_length=20000, widget=forms.Textarea(attrs={"rows": 2})
    )


class AcceptForm(forms.Form):
    title = forms.CharField(label=_("Problem title"), required=False, max_length=200)


class MergeForm(forms.Form):
    problem = forms.CharField(
        label=_("Problem"), max_length=20, widget=forms.TextInput(attrs={"placeholder": "PRB…"})
    )


class DismissForm(forms.Form):
    reason = forms.CharField(label=_("Why it is not a problem"), required=False, max_length=2000)
