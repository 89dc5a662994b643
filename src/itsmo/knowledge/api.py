"""The knowledge API under /api/v1/: list and search articles, create, read, change,
translate and move them along their lifecycle. Thin: parse, look up, call a service."""

from datetime import datetime
from typing import Any

from django.conf import settings
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from itsmo.api.pagination import PagePagination
from itsmo.catalog.models import Service
from itsmo.core import registry
from itsmo.core.errors import ValidationFailed
from itsmo.incidents.models import Category
from itsmo.search import services as search

from . import markup, services
from .models import Article, ArticleTranslation, ArticleType, State

router = Router(tags=["knowledge"])


def _journal_visible(user):
    """An article's history (drafts, reviews) is for staff; readers get the article."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Article.objects.none()
    return Article.objects.all() if user.is_staff_member else Article.objects.none()


registry.register("article", Article, visible=_journal_visible)


# -- schemas ---------------------------------------------------------------------------------


class TranslationOut(Schema):
    language: str
    title: str
    body: str
    updated_at: datetime


class ArticleListOut(Schema):
    number: str
    type: str
    state: str
    language: str
    title: str
    services: list[str]
    category: str | None
    owner: str | None
    problem: str | None
    revision: int
    published_at: datetime | None
    updated_at: datetime
    version: int

    @staticmethod
    def resolve_type(obj: Article) -> str:
        return obj.article_type

    @staticmethod
    def resolve_title(obj: Article, context) -> str:
        translation = obj.translation(_wanted_language(context))
        return translation.title if translation else ""

    @staticmethod
    def resolve_services(obj: Article) -> list[str]:
        return [s.code for s in obj.services.all()]

    @staticmethod
    def resolve_category(obj: Article) -> str | None:
        return obj.category.name if obj.category_id else None

    @staticmethod
    def resolve_owner(obj: Article) -> str | None:
        return obj.owner.username if obj.owner_id else None

    @staticmethod
    def resolve_problem(obj: Article) -> str | None:
        return obj.problem.number if obj.problem_id else None


class ArticleOut(ArticleListOut):
    body: str = Field(..., description="Markdown, in the requested language (or the original)")
    body_html: str = Field(..., description="the body rendered and sanitised")
    text_language: str = Field(..., description="the language of `title` and `body`")
    translations: list[TranslationOut]
    next_states: list[str]
    view_count: int
    helpful_count: int
    not_helpful_count: int
    use_count: int

    @staticmethod
    def resolve_body(obj: Article, context) -> str:
        translation = obj.translation(_wanted_language(context))
        return translation.body if translation else ""

    @staticmethod
    def resolve_body_html(obj: Article, context) -> str:
        translation = obj.translation(_wanted_language(context))
        return markup.to_html(translation.body if translation else "")

    @staticmethod
    def resolve_text_language(obj: Article, context) -> str:
        translation = obj.translation(_wanted_language(context))
        return translation.language if translation else obj.language

    @staticmethod
    def resolve_translations(obj: Article) -> list[ArticleTranslation]:
        return list(obj.translations.all())

    @staticmethod
    def resolve_next_states(obj: Article, context) -> list[str]:
        return services.next_states(obj, context["request"].user)

    @staticmethod
    def resolve_use_count(obj: Article) -> int:
        return obj.uses.count()


def _wanted_language(context) -> str | None:
    request = context["request"] if context else None
    if request is None:
        return None
    wanted = request.GET.get("language") or getattr(request, "LANGUAGE_CODE", None)
    return (wanted or "").split("-")[0] or None


class TranslationIn(Schema):
    language: str = Field(..., description="en, es or pt")
    title: str = Field(..., min_length=1, max_length=200)
    body: str = Field(..., min_length=1, description="Markdown or plain text")


class ArticleIn(Schema):
    type: ArticleType = ArticleType.HOW_TO
    language: str = Field("en", description="the original language: en, es or pt")
    title: str = Field(..., min_length=1, max_length=200)
    body: str = Field(..., min_length=1, description="Markdown or plain text")
    services: list[str] = Field(default_factory=list, description="service codes")
    category: int | None = Field(None, description="incident category id (top level)")
    translations: list[TranslationIn] = Field(
        default_factory=list, description="texts in other languages"
    )


class ArticlePatch(Schema):
    version: int = Field(..., description="the version you read; a stale one is a 409")
    type: ArticleType | None = None
    language: str | None = Field(None, description="the original language")
    services: list[str] | None = Field(None, description="service codes (replaces the list)")
    category: int | None = None
    owner: str | None = Field(None, description="username")
    translations: list[TranslationIn] | None = Field(
        None, description="texts to add or replace, by language"
    )


class TransitionIn(Schema):
    to: State
    version: int | None = Field(None, description="optional; a stale one is a 409")
    note: str = ""


class ArticleFilters(Schema):
    q: str | None = Field(None, description="full-text: number, titles and bodies, any language")
    type: list[ArticleType] | None = Field(None, description="one or more types")
    state: list[State] | None = Field(None, description="one or more states (staff)")
    service: str | None = Field(None, description="service code")
    language: str | None = Field(
        None, description="articles with a text in this language; titles are given in it"
    )


# -- lookups ---------------------------------------------------------------------------------


def _services(codes: list[str]) -> list[Service]:
    found = []
    for code in codes:
        service = Service.objects.filter(code__iexact=code).first()
        if service is None:
            raise ValidationFailed(f"no service {code!r}", field="services")
        found.append(service)
    return found


def _category(value: int | None) -> Category | None:
    if value is None:
        return None
    found = Category.objects.filter(pk=value, is_active=True, parent__isnull=True).first()
    if found is None:
        raise ValidationFailed(f"no top-level category {value}", field="category")
    return found


def _owner(username: str | None):
    from itsmo.accounts.models import User

    if not username:
        return None
    found = User.objects.filter(username__iexact=username, is_active=True).first()
    if found is None or not found.is_staff_member:
        raise ValidationFailed(f"no active staff user {username!r}", field="owner")
    return found


def _check_language(value: str | None, field: str) -> None:
    codes = [code for code, _name in settings.LANGUAGES]
    if value is not None and value not in codes:
        raise ValidationFailed(f"{field} must be one of {', '.join(codes)}", field=field)


def _detail(article: Article) -> Article:
    return services.reload(article)


# -- endpoints -------------------------------------------------------------------------------


@router.get(
    "/knowledge",
    response=list[ArticleListOut],
    summary="List and search knowledge articles",
    description=(
        "End users see published articles only; staff see every state. `q` searches numbers, "
        "titles and bodies in every language (best matches first); `type` and `state` may "
        "repeat. Titles come in `language` (else the article's original language)."
    ),
)
@paginate(PagePagination)
def list_articles(request, filters: Query[ArticleFilters]):
    _check_language(filters.language, "language")
    articles = (
        Article.objects.visible_to(request.user)
        .select_related("category", "owner", "problem")
        .prefetch_related("translations", "services")
    )
    if filters.type:
        articles = articles.filter(article_type__in=filters.type)
    if filters.state:
        articles = articles.filter(state__in=filters.state)
    if filters.service:
        articles = articles.filter(
            pk__in=Article.services.through.objects.filter(
                service__code__iexact=filters.service
            ).values("article_id")
        )
    if filters.language:
        articles = articles.filter(
            pk__in=ArticleTranslation.objects.filter(language=filters.language).values("article_id")
        )
    if filters.q:
        return search.search(Article, filters.q, request.user, queryset=articles).order_by(
            "-search_rank", "-id"
        )
    return articles.order_by("-updated_at", "-id")


@router.post(
    "/knowledge",
    response={201: ArticleOut},
    summary="Write a new article (a draft)",
    description="Staff only. The article starts as a draft in its original `language`.",
)
def create_article(request, payload: ArticleIn):
    from django.db import transaction

    _check_language(payload.language, "language")
    for translation in payload.translations:
        _check_language(translation.language, "translations.language")
    values: dict[str, Any] = {
        "services": _services(payload.services),
        "category": _category(payload.category),
    }
    with transaction.atomic():
        article = services.create_article(
            actor=request.user,
            title=payload.title,
            body=payload.body,
            language=payload.language,
            article_type=payload.type,
            **values,
        )
        for translation in payload.translations:
            services.save_translation(
                article,
                actor=request.user,
                language=translation.language,
                title=translation.title,
                body=translation.body,
            )
    return Status(201, _detail(article))


@router.get(
    "/knowledge/{number}",
    response=ArticleOut,
    summary="One article",
    description="`?language=` picks the text (falls back to the original language).",
)
def get_article(request, number: str, language: str | None = None):
    _check_language(language, "language")
    return services.get_visible(number, request.user)


@router.patch(
    "/knowledge/{number}",
    response=ArticleOut,
    summary="Change an article or its translations",
    description=(
        "Send the `version` you read; if the article changed since, the answer is 409 with "
        "the current state. `translations` adds or replaces texts by language."
    ),
)
def patch_article(request, number: str, payload: ArticlePatch):
    from django.db import transaction

    article = services.get_visible(number, request.user)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    translations = data.pop("translations", None) or []
    changes: dict[str, Any] = {}
    for name, value in data.items():
        if name == "type":
            if value is None:
                raise ValidationFailed("type cannot be null", field="type")
            changes["article_type"] = value
        elif name == "language":
            _check_language(value, "language")
            if value is None:
                raise ValidationFailed("language cannot be null", field="language")
            changes["language"] = value
        elif name == "services":
            changes["services"] = _services(value or [])
        elif name == "category":
            changes["category"] = _category(value)
        elif name == "owner":
            changes["owner"] = _owner(value)
    for translation in translations:
        _check_language(translation["language"], "translations.language")
    with transaction.atomic():
        services.lock_version(article, actor=request.user, version=version)
        for translation in translations:
            services.save_translation(article, actor=request.user, version=None, **translation)
        if changes:
            services.update_article(article, actor=request.user, version=None, **changes)
    return _detail(article)


@router.post(
    "/knowledge/{number}/transitions",
    response=ArticleOut,
    summary="Move an article to another state",
    description=(
        "`to`: review (from draft), draft (back from review, or a new revision of a published "
        "or retired article), published (from review), retired (from published). Publishing "
        "and retiring need a knowledge manager (403 otherwise); a move the lifecycle does "
        "not allow is a 409."
    ),
)
def post_transition(request, number: str, payload: TransitionIn):
    article = services.get_visible(number, request.user)
    services.transition(
        article, payload.to, actor=request.user, version=payload.version, note=payload.note
    )
    return _detail(article)
