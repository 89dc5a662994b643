"""Forms of the knowledge pages: the article (metadata and the text in one language), the
filters of the list, and resolving an incident with an article."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from itsmo.catalog.models import Service
from itsmo.incidents.models import Category, ResolutionCode

from .models import ArticleType, State

RESOLUTION_CHOICES = [
    ("", _("By article type")),
    *[
        (code, label)
        for code, label in ResolutionCode.choices
        if code in ("workaround", "fixed", "user_education")
    ],
]


class ArticleForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    article_type = forms.ChoiceField(label=_("Type"), choices=ArticleType.choices)
    language = forms.ChoiceField(
        label=_("Original language"),
        choices=settings.LANGUAGES,
        help_text=_("Readers in other languages see this text when there is no translation."),
    )
    services = forms.ModelMultipleChoiceField(
        label=_("Services"), queryset=Service.objects.none(), required=False
    )
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=Category.objects.none(), required=False
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(
        label=_("Body"),
        widget=forms.Textarea(attrs={"rows": 16}),
        help_text=_("Markdown: # heading, - list, 1. steps, **bold**, `code`, [link](https://…)."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["services"].queryset = Service.objects.order_by("name")
        self.fields["services"].widget.attrs["size"] = 8
        self.fields["category"].queryset = Category.objects.filter(
            parent__isnull=True, is_active=True
        )


class ArticleFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    type = forms.ChoiceField(
        label=_("Type"), required=False, choices=[("", _("All types")), *ArticleType.choices]
    )
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("All states")), *State.choices]
    )
    service = forms.ModelChoiceField(
        label=_("Service"),
        required=False,
        queryset=Service.objects.none(),
        to_field_name="code",
        empty_label=_("All services"),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("All languages")), *settings.LANGUAGES],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.filter(articles__isnull=False).distinct()


class ResolveWithArticleForm(forms.Form):
    article = forms.CharField(widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    resolution_code = forms.ChoiceField(
        label=_("Resolution code"), choices=RESOLUTION_CHOICES, required=False
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
