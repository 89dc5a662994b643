from __future__ import annotations

import mimetypes

from django import forms
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from itsmo.incidents import services, workspace


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class ReportForm(forms.Form):
    service = forms.ModelChoiceField(
        label=_("Which service is affected?"),
        queryset=None,
        required=False,
        empty_label=_("I don't know"),
    )
    short_description = forms.CharField(
        label=_("What is wrong, in a few words?"),
        max_length=200,
        widget=forms.TextInput(attrs={"autofocus": ""}),
    )
    description = forms.CharField(
        label=_("Details"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What were you doing, what did you expect, what happened instead?"),
    )
    attachments = MultipleFileField(
        label=_("Screenshots or files"),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = workspace.portal_services()
        self.fields["attachments"].help_text = _("Up to %(size)s each.") % {
            "size": filesizeformat(services.attachment_max_bytes())
        }

    def clean_attachments(self):
        files = self.cleaned_data.get("attachments") or []
        for upload in files:
            if upload.size > services.attachment_max_bytes():
                raise forms.ValidationError(
                    _("%(name)s is too large (limit %(size)s)."),
                    params={
                        "name": upload.name,
                        "size": filesizeformat(services.attachment_max_bytes()),
                    },
                )
            content_type, _encoding = mimetypes.guess_type(upload.name)
            if content_type not in services.attachment_types():
                raise forms.ValidationError(
                    _("%(name)s: this type of file is not accepted."),
                    params={"name": upload.name},
                )
        return files


class PortalCommentForm(forms.Form):
    body = forms.CharField(
        label=_("Add a comment"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write something first.")},
    )


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is it not solved?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Tell us what is still wrong.")},
    )
