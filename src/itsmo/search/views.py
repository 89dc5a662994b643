"""The search box of every page: a reference number opens its record, anything else is a
full-text search over what the user may see.

A query that is a reference (``INC0001234``, ``inc1234``, ``PRB…``, ``CHG…``, ``KB…``,
``CI…``) goes straight to that record when the user may see it, as in ServiceNow or Jira.
Otherwise, and when no such record is visible, the page lists the best matches of each
searchable record type (incidents, problems for staff, knowledge articles), each section
leading to its own list filtered by the same words. Every query goes through
``visible_to(user)`` (in :func:`itsmo.search.services.search` and in the number lookup):
a record outside the user's scope is neither opened nor counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy as _
from django.views.decorators.http import require_GET

from itsmo.changes.models import Change
from itsmo.cmdb.models import CI
from itsmo.core.numbering import WIDTH
from itsmo.incidents.models import Incident
from itsmo.knowledge.models import Article
from itsmo.problems.models import Problem

from . import services

#: Matches shown per record type; the section links to the full list.
PER_SECTION = 8
MAX_QUERY = 200

_REFERENCE = re.compile(r"^([A-Za-z]{2,5})0*(\d{1,10})$")


def _incident_url(incident: Incident, user) -> str:
    name = "incidents:detail" if user.is_staff_member else "portal:detail"
    return reverse(name, args=[incident.number])


def _article_url(article: Article, user) -> str:
    name = "knowledge:detail" if user.is_staff_member else "portal:article"
    return reverse(name, args=[article.number])


#: prefix → (model, URL of a record for a user)
_NUMBERED = {
    "INC": (Incident, _incident_url),
    "PRB": (Problem, lambda p, user: reverse("problems:detail", args=[p.number])),
    "CHG": (Change, lambda c, user: reverse("changes:detail", args=[c.number])),
    "KB": (Article, _article_url),
    "CI": (CI, lambda ci, user: reverse("cmdb:detail", args=[ci.pk])),
}


def record_url(query: str, user) -> str | None:
    """The page of the record ``query`` names, when it is a reference the user may see."""
    found = _REFERENCE.match(query.replace(" ", ""))
    if found is None or found.group(1).upper() not in _NUMBERED:
        return None
    prefix = found.group(1).upper()
    model, url = _NUMBERED[prefix]
    number = f"{prefix}{int(found.group(2)):0{WIDTH}d}"
    record = model._default_manager.visible_to(user).filter(number=number).first()
    return url(record, user) if record is not None else None


@dataclass
class Section:
    key: str
    title: Any
    rows: list[dict] = field(default_factory=list)
    total: int = 0
    more_url: str = ""


def _incident_rows(incidents, user) -> list[dict]:
    return [_row(i, i.short_description, i.opened_at, _incident_url(i, user)) for i in incidents]


def _problem_rows(problems, user) -> list[dict]:
    return [
        _row(p, p.title, p.opened_at, reverse("problems:detail", args=[p.number])) for p in problems
    ]


def _row(record, title: str, when, url: str) -> dict:
    return {
        "number": record.number,
        "title": title,
        "state": record.get_status_display(),
        "when": when,
        "url": url,
    }


def _article_rows(articles, user) -> list[dict]:
    language = get_language()
    rows = []
    for article in articles:
        translation = article.translation(language)
        rows.append(
            {
                "number": article.number,
                "title": translation.title if translation else article.number,
                "state": article.get_state_display() if user.is_staff_member else "",
                "when": article.updated_at,
                "url": _article_url(article, user),
            }
        )
    return rows


def _sections(query: str, user) -> list[Section]:
    staff = user.is_staff_member
    kinds = [
        (
            "incidents",
            _("Incidents"),
            Incident,
            Incident.objects.all(),
            _incident_rows,
            reverse("incidents:list") if staff else reverse("portal:home"),
        ),
    ]
    if staff:
        kinds.append(
            (
                "problems",
                _("Problems"),
                Problem,
                Problem.objects.all(),
                _problem_rows,
                reverse("problems:list"),
            )
        )
    kinds.append(
        (
            "articles",
            _("Knowledge articles"),
            Article,
            Article.objects.prefetch_related("translations"),
            _article_rows,
            reverse("knowledge:list") if staff else "",
        )
    )
    sections = []
    for key, title, model, queryset, rows, list_url in kinds:
        found = services.search(model, query, user, queryset=queryset)
        page = list(found[:PER_SECTION])
        total = len(page) if len(page) < PER_SECTION else found.count()
        more = f"{list_url}?{urlencode({'q': query})}" if list_url and total > len(page) else ""
        sections.append(Section(key, title, rows(page, user), total, more))
    return sections


@login_required
@require_GET
def results(request):
    query = (request.GET.get("q") or "").strip()[:MAX_QUERY]
    if query:
        url = record_url(query, request.user)
        if url is not None:
            return redirect(url)
    sections = _sections(query, request.user) if services.words(query) else []
    return render(
        request,
        "search/results.html",
        {
            "q": query,
            "sections": sections,
            "total": sum(s.total for s in sections),
            "looks_like_number": bool(_REFERENCE.match(query.replace(" ", ""))),
        },
    )
