"""Forms of the agent workspace. They parse and check what a person typed; the rules of the
record (guards, versions, membership) stay in ``services`` and come back as form errors."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from itsmo.changes.models import Change
from itsmo.problems.models import Problem

from . import workspace
from .models import (
    Category,
    Channel,
    Impact,
    Incident,
    OnHoldReason,
    Priority,
    ResolutionCode,
    Status,
    Urgency,
)


def _record_by_number(model, value: str, label):
    """The record (problem, change) a person referred to by its number, or a form error."""
    number = value.strip()
    if not number:
        return None
    found = model.objects.filter(number__iexact=number).first()
    if found is None:
        raise forms.ValidationError(
            _("No %(record)s %(number)s.") % {"record": label, "number": number}
        )
    return found


class IncidentFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Number or text"), "data-filter-focus": ""}
        ),
    )
    state = forms.ChoiceField(label=_("State"), required=False)
    priority = forms.ChoiceField(
        label=_("Priority"),
        required=False,
        choices=[("", _("Any"))] + [(v, f"P{v}") for v in Priority.values],
    )
    group = forms.ModelChoiceField(
        label=_("Group"), required=False, queryset=None, empty_label=_("Any")
    )
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    service = forms.ModelChoiceField(
        label=_("Service"), required=False, queryset=None, empty_label=_("Any")
    )
    country = forms.ModelChoiceField(
        label=_("Country"), required=False, queryset=None, empty_label=_("Any")
    )
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=[])

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [
            ("", _("Any")),
            ("open", _("Open (not resolved)")),
            *list(Status.choices),
        ]
        self.fields["group"].queryset = workspace.assignable_groups(user)
        self.fields["assignee"].choices = [
            ("", _("Anyone")),
            ("me", _("Me")),
            ("none", _("Nobody (unassigned)")),
        ] + [(str(p.pk), str(p)) for p in workspace.assignable_people(user)]
        self.fields["service"].queryset = workspace.catalogue_services()
        self.fields["country"].queryset = workspace.visible_countries(user)
        self.fields["sort"].choices = list(workspace.SORT_LABELS.items())

    def filters(self) -> dict:
        return self.cleaned_data if self.is_valid() else {}

    def is_filtered(self) -> bool:
        data = self.filters()
        return any(v for k, v in data.items() if k != "sort")


class BulkAssignForm(forms.Form):
    numbers = forms.MultipleChoiceField(
        label=_("Incidents"),
        error_messages={"required": _("Select at least one incident.")},
    )
    group = forms.ModelChoiceField(label=_("Group"), required=False, queryset=None)
    assignee = forms.ModelChoiceField(label=_("Assignee"), required=False, queryset=None)
    to_me = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["group"].queryset = workspace.assignable_groups(user)
        self.fields["assignee"].queryset = workspace.assignable_people(user)
        numbers = self.data.getlist("numbers") if hasattr(self.data, "getlist") else []
        self.fields["numbers"].choices = [(n, n) for n in numbers]

    def clean(self):
        data = super().clean()
        if data.get("to_me"):
            data["assignee"] = self.user
        if not data.get("group") and not data.get("assignee"):
            raise forms.ValidationError(_("Choose a group, an assignee or both."))
        return data


class IncidentFieldsForm(forms.Form):
    """The editable fields of the record; ``version`` is the one the agent read."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    short_description = forms.CharField(label=_("Short description"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    impact = forms.TypedChoiceField(label=_("Impact"), choices=Impact.choices, coerce=int)
    urgency = forms.TypedChoiceField(label=_("Urgency"), choices=Urgency.choices, coerce=int)
    service = forms.ModelChoiceField(label=_("Service"), required=False, queryset=None)
    category = forms.ModelChoiceField(label=_("Category"), required=False, queryset=None)
    subcategory = forms.ModelChoiceField(label=_("Subcategory"), required=False, queryset=None)
    ci = forms.CharField(
        label=_("Configuration item"),
        required=False,
        help_text=_("CI number, e.g. CI0001234."),
        widget=forms.TextInput(attrs={"placeholder": "CI…"}),
    )
    caused_by_change = forms.CharField(
        label=_("Caused by change"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"placeholder": "CHG…"}),
    )
    problem = forms.CharField(
        label=_("Related problem"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"placeholder": "PRB…"}),
    )
    is_first_contact_resolution = forms.BooleanField(
        label=_("First-contact resolution"), required=False
    )
    is_major = forms.BooleanField(label=_("Major incident"), required=False)

    FIELDS = (
        "short_description",
        "description",
        "impact",
        "urgency",
        "service",
        "category",
        "subcategory",
        "ci",
        "caused_by_change",
        "problem",
        "is_first_contact_resolution",
        "is_major",
    )

    def __init__(self, *args, user, incident: Incident | None = None, **kwargs):
        if incident is not None and not args and "data" not in kwargs:
            kwargs["initial"] = self.initial_for(incident)
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["service"].queryset = workspace.catalogue_services()
        self.fields["category"].queryset = Category.objects.filter(
            parent__isnull=True, is_active=True
        )
        self.fields["subcategory"].queryset = Category.objects.filter(
            parent__isnull=False, is_active=True
        ).select_related("parent")

    @staticmethod
    def initial_for(incident: Incident) -> dict:
        initial = {name: getattr(incident, name) for name in IncidentFieldsForm.FIELDS}
        initial["ci"] = incident.ci.number if incident.ci_id else ""
        initial["caused_by_change"] = (
            incident.caused_by_change.number if incident.caused_by_change_id else ""
        )
        initial["problem"] = incident.problem.number if incident.problem_id else ""
        initial["version"] = incident.version
        return initial

    def clean_caused_by_change(self):
        return _record_by_number(Change, self.cleaned_data["caused_by_change"], _("change"))

    def clean_problem(self):
        return _record_by_number(Problem, self.cleaned_data["problem"], _("problem"))

    def clean_ci(self):
        number = self.cleaned_data["ci"].strip()
        if not number:
            return None
        ci = workspace.find_ci(number, self.user)
        if ci is None:
            raise forms.ValidationError(
                _("No configuration item %(number)s."), params={"number": number}
            )
        return ci

    def changes(self, incident: Incident) -> dict:
        """Only what the agent changed, so that rules (major by rule) and the journal see
        real changes."""
        current = self.initial_for(incident)
        current["ci"] = incident.ci
        changed = {}
        for name in self.FIELDS:
            value = self.cleaned_data[name]
            before = current[name]
            if isinstance(value, str) or isinstance(before, str):
                value, before = (value or "").strip(), (before or "").strip()
            if value != before:
                changed[name] = self.cleaned_data[name]
        return changed


class TransitionForm(forms.Form):
    """Move along the lifecycle; resolving needs a code and notes, on hold a reason."""

    to = forms.ChoiceField(choices=Status.choices, widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.ChoiceField(
        label=_("Reason"),
        required=False,
        choices=[("", "—"), *list(OnHoldReason.choices)],
    )
    resolution_code = forms.ChoiceField(
        label=_("Resolution code"),
        required=False,
        choices=[("", "—"), *list(ResolutionCode.choices)],
    )
    resolution_notes = forms.CharField(
        label=_("Resolution notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What was done; the caller reads this."),
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self):
        data = super().clean()
        to = data.get("to")
        if to == Status.RESOLVED:
            if not data.get("resolution_code"):
                self.add_error("resolution_code", _("Choose a resolution code."))
            if not (data.get("resolution_notes") or "").strip():
                self.add_error("resolution_notes", _("Write what was done to resolve it."))
        if to == Status.ON_HOLD and not data.get("reason"):
            self.add_error("reason", _("Say what the incident is waiting for."))
        return data


class AssignForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    group = forms.ModelChoiceField(label=_("Assignment group"), required=False, queryset=None)
    assignee = forms.ModelChoiceField(label=_("Assignee"), required=False, queryset=None)
    note = forms.CharField(
        label=_("Work note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Why you are escalating (internal)."),
    )
    to_me = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, incident: Incident | None = None, **kwargs):
        if incident is not None and not args and "data" not in kwargs:
            kwargs["initial"] = {
                "version": incident.version,
                "group": incident.assignment_group_id,
                "assignee": incident.assignee_id,
            }
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["group"].queryset = workspace.assignable_groups(user)
        self.fields["assignee"].queryset = workspace.assignable_people(user)

    def clean(self):
        data = super().clean()
        if data.get("to_me"):
            data["assignee"] = self.user
        if not data.get("group") and not data.get("assignee"):
            raise forms.ValidationError(_("Choose a group, an assignee or both."))
        return data


class CommentForm(forms.Form):
    KIND_COMMENT = "comment"
    KIND_WORK_NOTE = "work_note"

    body = forms.CharField(
        label=_("Comment or work note"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 3, "data-comment-box": ""}),
        error_messages={"required": _("Write something first.")},
    )
    kind = forms.ChoiceField(
        choices=[(KIND_COMMENT, _("Comment")), (KIND_WORK_NOTE, _("Work note"))],
        initial=KIND_WORK_NOTE,
    )

    @property
    def is_internal(self) -> bool:
        return self.cleaned_data.get("kind") != self.KIND_COMMENT


class MajorUpdateForm(forms.Form):
    body = forms.CharField(
        label=_("Stakeholder update"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Public: the caller, watchers and the coordinator get it by e-mail."),
    )


class NewIncidentForm(forms.Form):
    """An agent records an incident reported by phone, walk-in or e-mail."""

    caller = forms.CharField(
        label=_("Caller"),
        help_text=_("User name or e-mail address."),
        widget=forms.TextInput(attrs={"autofocus": ""}),
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=[(c, Channel(c).label) for c in (Channel.PHONE, Channel.WALK_IN, Channel.EMAIL)],
        initial=Channel.PHONE,
    )
    short_description = forms.CharField(label=_("Short description"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    impact = forms.TypedChoiceField(
        label=_("Impact"), choices=Impact.choices, coerce=int, initial=Impact.LOW
    )
    urgency = forms.TypedChoiceField(
        label=_("Urgency"), choices=Urgency.choices, coerce=int, initial=Urgency.LOW
    )
    service = forms.ModelChoiceField(label=_("Service"), required=False, queryset=None)
    ci = forms.CharField(label=_("Configuration item"), required=False)
    assignment_group = forms.ModelChoiceField(
        label=_("Assignment group"),
        required=False,
        queryset=None,
        help_text=_("Blank: the service's support group."),
    )
    assign_to_me = forms.BooleanField(label=_("Assign to me"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["service"].queryset = workspace.catalogue_services()
        self.fields["assignment_group"].queryset = workspace.assignable_groups(user)

    def clean_caller(self):
        caller = workspace.find_user(self.cleaned_data["caller"])
        if caller is None:
            raise forms.ValidationError(_("No active user with this user name or e-mail."))
        return caller

    def clean_caused_by_change(self):
        return _record_by_number(Change, self.cleaned_data["caused_by_change"], _("change"))

    def clean_problem(self):
        return _record_by_number(Problem, self.cleaned_data["problem"], _("problem"))

    def clean_ci(self):
        number = self.cleaned_data["ci"].strip()
        if not number:
            return None
        ci = workspace.find_ci(number, self.user)
        if ci is None:
            raise forms.ValidationError(
                _("No configuration item %(number)s."), params={"number": number}
            )
        return ci
