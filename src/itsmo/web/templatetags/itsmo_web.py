"""Small presentation filters shared by every page."""

from django import template

register = template.Library()


@register.filter
def time_zone_label(name) -> str:
    """``America/Sao_Paulo`` → ``America/Sao Paulo``: an IANA name as people read it."""
    return str(name or "").replace("_", " ")
