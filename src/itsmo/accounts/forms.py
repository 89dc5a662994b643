"""Forms of the accounts pages: they parse input; the services in ``services.py`` write."""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from datetime import datetime, time
from functools import cache

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


@cache
def time_zone_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """IANA zones grouped by area (``America``, ``Europe``…), as select option groups."""
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for name in sorted(zoneinfo.available_timezones()):
        if "/" not in name or name.startswith(("Etc/", "SystemV/", "US/", "posix", "right")):
            continue
        area = name.partition("/")[0]
        groups[area].append((name, name.replace("_", " ").replace("/", " / ")))
    return [("UTC", [("UTC", "UTC")]), *sorted(groups.items())]


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        help_text=_("Dates and times are shown in this time zone."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = time_zone_choices()


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    new_password = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    new_password_again = forms.CharField(
        label=_("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    #: The service speaks plain English; the page shows a translated message per field.
    service_messages = {"old_password": _("Your current password is wrong.")}

    def clean(self):
        cleaned = super().clean()
        new, again = cleaned.get("new_password"), cleaned.get("new_password_again")
        if new and again and new != again:
            self.add_error("new_password_again", _("The two new passwords do not match."))
        return cleaned

    def add_service_error(self, field: str | None, message: str) -> None:
        if field not in self.fields:
            field = None
        self.add_error(field, self.service_messages.get(field, message))


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("What the token is for, e.g. “monitoring integration”."),
    )
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty for a token that does not expire."),
    )

    service_messages = {"expires_on": _("The expiry date must be in the future.")}

    def add_service_error(self, field: str | None, message: str) -> None:
        field = {"expires_at": "expires_on"}.get(field, field)
        if field not in self.fields:
            field = None
        self.add_error(field, self.service_messages.get(field, message))

    def expires_at(self) -> datetime | None:
        """The end of the chosen day in the user's time zone."""
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))
