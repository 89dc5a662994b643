"""Journal values as people read them: state labels and field names."""

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _

from itsmo.incidents.models import Incident, Status

register = template.Library()


@register.filter
def state_label(value) -> str:
    try:
        return str(Status(value).label)
    except ValueError:
        return value


@register.filter
def journal_value(value) -> str:
    """Booleans as yes/no; anything else as it was recorded."""
    if value == "True":
        return str(_("yes"))
    if value == "False":
        return str(_("no"))
    return value


@register.filter
def field_label(name) -> str:
    try:
        return str(Incident._meta.get_field(str(name).rstrip("+-")).verbose_name)
    except FieldDoesNotExist:
        return str(name).replace("_", " ")
