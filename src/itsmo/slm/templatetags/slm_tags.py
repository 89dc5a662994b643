"""Template filters of the service-level pages."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def business_time(minutes) -> str:
    """A target in business minutes as hours and minutes (``90`` → ``1 h 30 min``); days
    are left out on purpose: a business day's length depends on the calendar."""
    if minutes in (None, ""):
        return "—"
    hours, rest = divmod(int(minutes), 60)
    if not hours:
        return _("%(minutes)d min") % {"minutes": rest}
    if not rest:
        return _("%(hours)d h") % {"hours": hours}
    return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": rest}
