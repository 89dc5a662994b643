"""Journal entries as people read them, on every record type's timeline.

The journal keeps what changed as text (:mod:`itsmo.core.journal`): field names, choice
keys, ISO instants, ``True``/``False``. These filters show an entry in the reader's language
and time zone: the field's verbose name, a choice's label, an instant in the current time
zone, yes or no. A field the record type no longer has, or a value it cannot read, is shown
as it was recorded.

    {% load journal %}
    {{ entry|journal_field }}: {{ entry|journal_old }} → {{ entry|journal_new }}
"""

from __future__ import annotations

from django import template
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext as _

register = template.Library()


def _field(entry) -> models.Field | None:
    if not entry.field:
        return None
    model = ContentType.objects.get_for_id(entry.content_type_id).model_class()
    if model is None:
        return None
    try:
        return model._meta.get_field(entry.field.rstrip("+-"))
    except FieldDoesNotExist:
        return None


@register.filter
def journal_field(entry) -> str:
    """The changed field's name (``watchers+`` is "Watchers added")."""
    field = _field(entry)
    name = (entry.field or "").rstrip("+-")
    label = capfirst(str(getattr(field, "verbose_name", "") or name.replace("_", " ")))
    if entry.field.endswith("+"):
        return _("%(field)s added") % {"field": label}
    if entry.field.endswith("-"):
        return _("%(field)s removed") % {"field": label}
    return label


def _shown(entry, value: str) -> str:
    if not value:
        return value
    if value == "True":
        return _("yes")
    if value == "False":
        return _("no")
    field = _field(entry)
    if field is None or field.is_relation:
        return value
    if field.choices:
        labels = {str(key): label for key, label in field.flatchoices}
        return str(labels.get(value, value))
    if isinstance(field, models.DateTimeField):
        instant = parse_datetime(value)
        if instant is not None:
            if timezone.is_aware(instant):
                instant = timezone.localtime(instant)
            return formats.date_format(instant, "SHORT_DATETIME_FORMAT")
    elif isinstance(field, models.DateField):
        day = parse_date(value)
        if day is not None:
            return formats.date_format(day, "SHORT_DATE_FORMAT")
    return value


@register.filter
def journal_old(entry) -> str:
    """The value before the change, as people read it."""
    return _shown(entry, entry.old_value)


@register.filter
def journal_new(entry) -> str:
    """The value after the change, as people read it."""
    return _shown(entry, entry.new_value)
