"""Forms of the change pages: they parse and validate input; services do the writing."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from itsmo.accounts.models import SupportGroup, User
from itsmo.catalog.models import Service
from itsmo.cmdb.models import CI
from itsmo.organization.models import Country

from . import risk
from .models import (
    ChangeTemplate,
    ChangeType,
    CloseCode,
    DeploymentStatus,
    Release,
    Status,
)


def _staff():
    from itsmo.accounts.models import STAFF_ROLES

    return (
        User.objects.filter(is_active=True, role_grants__role__in=sorted(STAFF_ROLES))
        .distinct()
        .order_by("username")
    )


class CIField(forms.CharField):
    """CI numbers separated by commas or spaces, looked up in the user's scope."""

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        numbers = [n.strip().upper() for n in (value or "").replace(",", " ").split() if n.strip()]
        found = {c.number: c for c in CI.objects.visible_to(self.user).filter(number__in=numbers)}
        missing = [n for n in numbers if n not in found]
        if missing:
            raise forms.ValidationError(_("No CI %(number)s.") % {"number": missing[0]})
        return [found[n] for n in numbers]


class ChangeForm(forms.Form):
    """A new change (or its editable fields on the change page)."""

    type = forms.ChoiceField(label=_("Type"), choices=ChangeType.choices)
    template = forms.ModelChoiceField(
        label=_("Template (standard changes)"),
        queryset=ChangeTemplate.objects.filter(is_active=True),
        required=False,
        to_field_name="code",
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    country = forms.ModelChoiceField(
        label=_("Country"), queryset=Country.objects.order_by("name"), required=False
    )
    services = forms.ModelMultipleChoiceField(
        label=_("Services"), queryset=Service.objects.order_by("name"), required=False
    )
    cis = CIField(label=_("CIs (numbers)"), required=False)
    assignment_group = forms.ModelChoiceField(
        label=_("Assignment group"), queryset=SupportGroup.objects.none(), required=False
    )
    change_manager = forms.ModelChoiceField(
        label=_("Change manager"), queryset=User.objects.none(), required=False
    )
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=User.objects.none(), required=False
    )
    is_cab_required = forms.BooleanField(label=_("CAB required"), required=False, initial=True)
    implementation_plan = forms.CharField(
        label=_("Implementation plan"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    backout_plan = forms.CharField(
        label=_("Back-out plan"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    test_plan = forms.CharField(
        label=_("Test plan"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )

    def __init__(self, *args, user=None, change=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cis"].user = user
        self.fields["assignment_group"].queryset = SupportGroup.objects.visible_to(user).filter(
            is_active=True
        )
        self.fields["change_manager"].queryset = _staff()
        self.fields["assignee"].queryset = _staff()
        if change is not None:
            del self.fields["type"]
            del self.fields["template"]
            self.fields["version"] = forms.IntegerField(widget=forms.HiddenInput)
            self.fields["release"] = forms.ModelChoiceField(
                label=_("Release"),
                queryset=Release.objects.exclude(status__in=["deployed", "cancelled"]),
                required=False,
            )
            self.initial.update(
                {
                    "version": change.version,
                    "title": change.title,
                    "description": change.description,
                    "country": change.country_id,
                    "services": list(change.services.values_list("pk", flat=True)),
                    "cis": " ".join(
                        CI.objects.filter(change_links__change=change).values_list(
                            "number", flat=True
                        )
                    ),
                    "assignment_group": change.assignment_group_id,
                    "change_manager": change.change_manager_id,
                    "assignee": change.assignee_id,
                    "is_cab_required": change.is_cab_required,
                    "implementation_plan": change.implementation_plan,
                    "backout_plan": change.backout_plan,
                    "test_plan": change.test_plan,
                    "release": change.release_id,
                }
            )


class RiskForm(forms.Form):
    """The risk questionnaire: one choice per question."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, change=None, **kwargs):
        super().__init__(*args, **kwargs)
        for question in risk.QUESTIONS:
            self.fields[question.key] = forms.ChoiceField(
                label=question.text,
                choices=[(key, label) for key, label, _score in question.answers],
                widget=forms.RadioSelect,
            )
        if change is not None:
            self.initial.update({"version": change.version, **(change.risk_answers or {})})

    def answers(self) -> dict[str, str]:
        return {q.key: self.cleaned_data[q.key] for q in risk.QUESTIONS}


class ScheduleForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    planned_start = forms.DateTimeField(
        label=_("Planned start"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    planned_end = forms.DateTimeField(
        label=_("Planned end"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    override_reason = forms.CharField(
        label=_("Override reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Only to schedule despite collisions or blackout windows: say why."),
    )

    def __init__(self, *args, change=None, **kwargs):
        super().__init__(*args, **kwargs)
        if change is not None:
            fmt = "%Y-%m-%dT%H:%M"
            from django.utils import timezone

            def local(value):
                return timezone.localtime(value).strftime(fmt) if value else None

            self.initial.update(
                {
                    "version": change.version,
                    "planned_start": local(change.planned_start),
                    "planned_end": local(change.planned_end),
                }
            )


class TransitionForm(forms.Form):
    to = forms.ChoiceField(choices=Status.choices, widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput)
    close_code = forms.ChoiceField(
        label=_("Outcome"), choices=[("", "—"), *CloseCode.choices], required=False
    )
    close_notes = forms.CharField(
        label=_("Close notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReviewForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    close_code = forms.ChoiceField(label=_("Outcome"), choices=CloseCode.choices)
    review_notes = forms.CharField(
        label=_("Post-implementation review"), widget=forms.Textarea(attrs={"rows": 5})
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approved", _("Approve")), ("rejected", _("Reject"))], widget=forms.HiddenInput
    )
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class CommentForm(forms.Form):
    body = forms.CharField(label=_("Work note"), widget=forms.Textarea(attrs={"rows": 3}))


class ChangeFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    state = forms.ChoiceField(
        label=_("State"), choices=[("", _("Any")), *Status.choices], required=False
    )
    type = forms.ChoiceField(
        label=_("Type"), choices=[("", _("Any")), *ChangeType.choices], required=False
    )
    country = forms.ModelChoiceField(
        label=_("Country"),
        queryset=Country.objects.order_by("name"),
        required=False,
        to_field_name="code",
    )


class CalendarFilterForm(forms.Form):
    view = forms.ChoiceField(
        label=_("View"), choices=[("month", _("Month")), ("week", _("Week"))], required=False
    )
    date = forms.DateField(
        label=_("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    country = forms.ModelChoiceField(
        label=_("Country"),
        queryset=Country.objects.order_by("name"),
        required=False,
        to_field_name="code",
    )
    service = forms.ModelChoiceField(
        label=_("Service"),
        queryset=Service.objects.order_by("name"),
        required=False,
        to_field_name="code",
    )
    ci = forms.CharField(label=_("CI"), required=False)


class ReleaseForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150)
    version_label = forms.CharField(label=_("Version"), max_length=40)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    service = forms.ModelChoiceField(
        label=_("Service"), queryset=Service.objects.order_by("name"), required=False
    )


class DeploymentForm(forms.Form):
    country = forms.ModelChoiceField(
        label=_("Country"), queryset=Country.objects.order_by("name"), required=False
    )
    planned_start = forms.DateTimeField(
        label=_("Planned start"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    planned_end = forms.DateTimeField(
        label=_("Planned end"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )


class DeploymentStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("State"), choices=DeploymentStatus.choices)
