"""Knowledge pages: the list (search and filters), the article (rendered in the reader's
language), the editor, lifecycle buttons; the portal's suggestions and article page; and
the agent's "resolve with an article" panel on an incident.

Views parse a form, call ``services`` (writes, reads), render. An article the user may not
read is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext as _
from django.views.decorators.http import require_GET, require_POST

from itsmo.core import journal
from itsmo.core.errors import DomainError, NotFound
from itsmo.core.forms import add_domain_error
from itsmo.incidents import services as incidents
from itsmo.incidents.models import OPEN_STATES
from itsmo.search import services as search

from . import markup, services
from .forms import RESOLUTION_CHOICES, ArticleFilterForm, ArticleForm, ResolveWithArticleForm
from .models import LANGUAGES, LIFECYCLE, Article, ArticleTranslation, State

PAGE_SIZE = 25


def _article(request, number: str) -> Article:
    try:
        return services.get_visible(number, request.user)
    except NotFound:
        raise Http404 from None


def _language(request) -> str:
    wanted = request.GET.get("lang") or get_language() or "en"
    wanted = wanted.split("-")[0]
    return wanted if wanted in LANGUAGES else "en"


def _staff(request) -> None:
    if not request.user.is_staff_member:
        raise PermissionDenied


def _row(article: Article, language: str) -> dict:
    translation = article.translation(language)
    return {
        "article": article,
        "title": translation.title if translation else article.number,
        "excerpt": markup.excerpt(translation.body if translation else ""),
        "language": translation.language if translation else article.language,
    }


@login_required
@require_GET
def article_list(request):
    form = ArticleFilterForm(request.GET or None)
    is_staff = request.user.is_staff_member
    if not is_staff:
        form.fields.pop("state")
    articles = Article.objects.visible_to(request.user).prefetch_related("translations", "services")
    q = ""
    if form.is_valid():
        data = form.cleaned_data
        q = data["q"].strip()
        if data["type"]:
            articles = articles.filter(article_type=data["type"])
        if data.get("state"):
            articles = articles.filter(state=data["state"])
        if data["service"]:
            articles = articles.filter(
                pk__in=Article.services.through.objects.filter(service=data["service"]).values(
                    "article_id"
                )
            )
        if data["language"]:
            articles = articles.filter(
                pk__in=ArticleTranslation.objects.filter(language=data["language"]).values(
                    "article_id"
                )
            )
    if q:
        articles = search.search(Article, q, request.user, queryset=articles)
    else:
        articles = articles.order_by("-updated_at", "-id")
    page = Paginator(articles, PAGE_SIZE).get_page(request.GET.get("page"))
    language = _language(request)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "knowledge/article_list.html",
        {
            "form": form,
            "page": page,
            "rows": [_row(a, language) for a in page.object_list],
            "q": q,
            "query": query.urlencode(),
            "is_staff": is_staff,
        },
    )


def _transitions(article: Article, user) -> list[dict]:
    return [
        {"to": target, "label": LIFECYCLE.find(article.state, target).label}
        for target in services.next_states(article, user)
    ]


@login_required
@require_GET
def article_detail(request, number: str):
    article = _article(request, number)
    if article.state == State.PUBLISHED:
        services.record_view(article)
    language = _language(request)
    translation = article.translation(language)
    is_staff = request.user.is_staff_member
    return render(
        request,
        "knowledge/article_detail.html",
        {
            "article": article,
            "translation": translation,
            "body_html": markup.to_html(translation.body if translation else ""),
            "language": language,
            "is_fallback": translation is not None and translation.language != language,
            "languages": [
                {"code": code, "name": name, "has_text": code in article.translations_by_language()}
                for code, name in _language_names()
            ],
            "transitions": _transitions(article, request.user) if is_staff else [],
            "timeline": journal.timeline(article) if is_staff else [],
            "uses": article.uses.count() if is_staff else 0,
            "is_staff": is_staff,
        },
    )


def _language_names():
    from django.conf import settings

    return [(code, _(str(name))) for code, name in settings.LANGUAGES]


def _form_values(data: dict) -> dict:
    return {
        "article_type": data["article_type"],
        "language": data["language"],
        "services": list(data["services"]),
        "category": data["category"],
    }


@login_required
def article_new(request):
    _staff(request)
    form = ArticleForm(
        request.POST or None, initial={"language": _language(request), "article_type": "how_to"}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            article = services.create_article(
                actor=request.user, title=data["title"], body=data["body"], **_form_values(data)
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request, _("Article %(number)s saved as a draft.") % {"number": article.number}
            )
            return redirect("knowledge:detail", article.number)
    status = 422 if request.method == "POST" else 200
    return render(
        request, "knowledge/article_form.html", {"form": form, "article": None}, status=status
    )


@login_required
def article_edit(request, number: str):
    _staff(request)
    article = _article(request, number)
    language = _language(request)
    translation = article.translations_by_language().get(language)
    initial = {
        "version": article.version,
        "article_type": article.article_type,
        "language": article.language,
        "services": list(article.services.all()),
        "category": article.category,
        "title": translation.title if translation else "",
        "body": translation.body if translation else "",
    }
    form = ArticleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.edit_article(
                article,
                actor=request.user,
                version=data["version"],
                text_language=language,
                title=data["title"],
                body=data["body"],
                **_form_values(data),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Article %(number)s saved.") % {"number": article.number})
            return redirect(f"{article_url(article)}?lang={language}")
    status = 422 if request.method == "POST" else 200
    original = article.translation()
    return render(
        request,
        "knowledge/article_form.html",
        {
            "form": form,
            "article": article,
            "language": language,
            "original": original if original and original.language != language else None,
            "languages": _language_names(),
        },
        status=status,
    )


def article_url(article: Article) -> str:
    from django.urls import reverse

    return reverse("knowledge:detail", args=[article.number])


@login_required
@require_POST
def article_transition(request, number: str):
    _staff(request)
    article = _article(request, number)
    version = request.POST.get("version")
    try:
        services.transition(
            article,
            request.POST.get("to", ""),
            actor=request.user,
            version=int(version) if version and version.isdigit() else None,
            note=request.POST.get("note", ""),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Article %(number)s is now %(state)s.")
            % {"number": article.number, "state": article.get_state_display()},
        )
    return redirect("knowledge:detail", article.number)


@login_required
@require_POST
def article_vote(request, number: str):
    article = _article(request, number)
    try:
        services.vote(article, actor=request.user, helpful=request.POST.get("helpful") == "yes")
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Thank you for your feedback."))
    target = request.POST.get("next")
    if target == "portal":
        return redirect("portal:article", article.number)
    return redirect("knowledge:detail", article.number)


# -- the portal: suggestions while typing, and reading an article ---------------------------


@login_required
@require_GET
def portal_suggestions(request):
    text = " ".join(request.GET.get(name, "") for name in ("short_description", "description", "q"))
    language = _language(request)
    found = services.suggest(text[:2000], request.user)
    return render(
        request,
        "knowledge/_suggestions.html",
        {"rows": [_row(a, language) for a in found], "typed": bool(text.strip())},
    )


@login_required
@require_GET
def portal_article(request, number: str):
    article = (
        Article.objects.published()
        .prefetch_related("translations")
        .filter(number=number.upper())
        .first()
    )
    if article is None:
        raise Http404
    services.record_view(article)
    language = _language(request)
    translation = article.translation(language)
    return render(
        request,
        "knowledge/portal_article.html",
        {
            "article": article,
            "translation": translation,
            "body_html": markup.to_html(translation.body if translation else ""),
            "is_fallback": translation is not None and translation.language != language,
        },
    )


# -- the agent's incident: resolve with an article ------------------------------------------


def _incident(request, number: str):
    _staff(request)
    try:
        return incidents.get_visible(number, request.user)
    except NotFound:
        raise Http404 from None


@login_required
@require_GET
def resolve_panel(request, number: str):
    """The fragment on an incident: search published articles, resolve with one."""
    incident = _incident(request, number)
    q = request.GET.get("q", "").strip()
    language = _language(request)
    if q:
        found = list(
            search.search(
                Article,
                q,
                request.user,
                queryset=Article.objects.published().prefetch_related("translations"),
            )[: services.SUGGESTIONS]
        )
    else:
        text = f"{incident.short_description} {incident.description}"
        found = services.suggest(text, request.user)
    template = (
        "knowledge/_resolve_results.html"
        if request.GET.get("results")
        else ("knowledge/_resolve_with_article.html")
    )
    return render(
        request,
        template,
        {
            "incident": incident,
            "is_open": incident.status in OPEN_STATES,
            "rows": [_row(a, language) for a in found],
            "q": q,
            "uses": services.used_articles(incident),
            "codes": RESOLUTION_CHOICES,
        },
    )


@login_required
@require_POST
def resolve_incident(request, number: str):
    incident = _incident(request, number)
    form = ResolveWithArticleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose an article first."))
        return redirect("incidents:detail", incident.number)
    data = form.cleaned_data
    try:
        article = services.get_visible(data["article"], request.user)
        services.resolve_with_article(
            incident,
            article,
            actor=request.user,
            resolution_code=data["resolution_code"],
            notes=data["notes"],
            version=data["version"],
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("%(incident)s resolved with %(article)s.")
            % {"incident": incident.number, "article": article.number},
        )
    return redirect("incidents:detail", incident.number)
