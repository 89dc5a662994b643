"""The write path of knowledge: create, edit, translate, move along the lifecycle, publish a
problem's known error, count views and votes, and resolve an incident with an article.

Each operation runs in one transaction: check permission and input, lock the row (a stale
``version`` is a 409), write, journal, reindex for search.

Who may do what (ServiceNow / Jira SM practice): any staff member writes articles and
submits them for review; publishing and retiring need a knowledge manager (group manager,
process owner, SMO analyst or administrator). End users read published articles and vote.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from itsmo.accounts.models import Role, User
from itsmo.catalog.models import Service
from itsmo.core import journal, numbering
from itsmo.core.errors import (
    NotFound,
    PermissionDenied,
    StaleVersion,
    TransitionNotAllowed,
    ValidationFailed,
)
from itsmo.incidents.models import Category, Incident, ResolutionCode
from itsmo.search import services as search

from .models import (
    LANGUAGES,
    LIFECYCLE,
    MANAGED_TARGETS,
    Article,
    ArticleTranslation,
    ArticleType,
    ArticleUse,
    State,
)

PREFIX = "KB"
#: Roles that may publish and retire articles.
MANAGER_ROLES = (Role.GROUP_MANAGER, Role.PROCESS_OWNER, Role.SMO_ANALYST, Role.ADMINISTRATOR)
#: Fields :func:`update_article` changes (text goes through :func:`save_translation`).
EDITABLE_FIELDS = ("article_type", "language", "category", "owner", "services")
#: Resolution codes an article may resolve an incident with.
RESOLUTION_CODES = (ResolutionCode.WORKAROUND, ResolutionCode.FIXED, ResolutionCode.USER_EDUCATION)
#: Suggestions shown while a user types an incident.
SUGGESTIONS = 5
#: Words that say nothing about an issue (en/es/pt), dropped from free-text suggestions.
_STOP_WORDS_TEXT = """the and for with that this from have has not but are was were can
    cannot when what does doesn't dont don't into out any all our your you they them there here been
    please help need again still just very since after before today yesterday
    que los las una uno por para con del como pero esta este estoy tengo hay sin mas muy
    cuando donde desde hoy ayer ahora favor ayuda puedo
    nao com uma por para pelo pela esta estou tenho sem mais muito quando onde desde hoje
    ontem agora favor ajuda posso"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
STOP_WORD_MIN = 3


# -- helpers -------------------------------------------------------------------------------


def _actor(actor) -> User | None:
    return actor if getattr(actor, "pk", None) else None


def is_staff(actor) -> bool:
    return actor is None or actor.is_staff_member


def may_publish(actor) -> bool:
    """Knowledge managers (and the system, ``actor=None``) publish and retire."""
    return actor is None or actor.has_role(*MANAGER_ROLES)


def _require_staff(actor, what: str) -> None:
    if not is_staff(actor):
        raise PermissionDenied(f"only staff may {what}")


def _check_choice(value: Any, field: str, choices: Iterable[str]) -> str:
    choices = list(choices)
    if value not in choices:
        raise ValidationFailed(f"{field} must be one of {', '.join(choices)}", field=field)
    return value


def _check_text(value: Any, field: str, *, max_length: int | None = None) -> str:
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be text", field=field)
    text = value.strip()
    if not text:
        raise ValidationFailed(f"{field} is required", field=field)
    if max_length and len(text) > max_length:
        raise ValidationFailed(f"{field} is longer than {max_length} characters", field=field)
    return text


def _lock(article: Article, version: int | None) -> Article:
    locked = Article.objects.select_for_update().get(pk=article.pk)
    if version is not None and locked.version != version:
        raise StaleVersion(
            f"article {locked.number} was changed by someone else "
            f"(you sent version {version}, it is now {locked.version})",
            current_version=locked.version,
            record=locked,
        )
    return locked


def _sync(target: Article, source: Article) -> None:
    for field in Article._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.fields_cache = {}
    getattr(target, "_prefetched_objects_cache", {}).clear()


def _bump(article: Article, fields: list[str]) -> None:
    """Save ``fields`` and the next version of a locked article."""
    article.version += 1
    article.save(update_fields=[*fields, "version", "updated_at"])


# -- reads ---------------------------------------------------------------------------------


def get_visible(number: str, user) -> Article:
    """The article ``number`` if ``user`` may read it, else :class:`NotFound`."""
    article = (
        Article.objects.visible_to(user)
        .select_related("category", "owner", "problem")
        .prefetch_related("translations", "services")
        .filter(number=(number or "").upper())
        .first()
    )
    if article is None:
        raise NotFound(f"no article {number}")
    return article


def reload(article: Article) -> Article:
    return (
        Article.objects.select_related("category", "owner", "problem")
        .prefetch_related("translations", "services")
        .get(pk=article.pk)
    )


def keywords(text: str) -> str:
    """The words of free text worth searching for (stop words and short words dropped)."""
    found: list[str] = []
    for word in search.normalize(text).split():
        if len(word) < STOP_WORD_MIN or word in STOP_WORDS or word in found:
            continue
        found.append(word)
    return " ".join(found[: search.MAX_WORDS])


def suggest(text: str, user, *, limit: int = SUGGESTIONS) -> list[Article]:
    """Published articles matching any word of ``text`` (deflection while typing), best first."""
    query = keywords(text)
    if not query:
        return []
    base = Article.objects.published().prefetch_related("translations")
    found = search.search(Article, query, user, queryset=base, match="any")
    return list(found[:limit])


def used_articles(incident: Incident) -> list[ArticleUse]:
    return list(
        ArticleUse.objects.filter(incident=incident)
        .select_related("article", "used_by")
        .prefetch_related("article__translations")
    )


# -- writing -------------------------------------------------------------------------------


@transaction.atomic
def create_article(
    *,
    actor: User | None,
    title: str,
    body: str,
    language: str = "en",
    article_type: str = ArticleType.HOW_TO,
    services: Iterable[Service] = (),
    category: Category | None = None,
    owner: User | None = None,
    problem=None,
) -> Article:
    """A new draft article with its text in its original ``language``."""
    actor = _actor(actor)
    _require_staff(actor, "write knowledge articles")
    article = Article(
        article_type=_check_choice(article_type, "type", ArticleType.values),
        language=_check_choice(language, "language", LANGUAGES),
        category=category,
        owner=owner or actor,
        problem=problem,
    )
    title = _check_text(title, "title", max_length=200)
    body = _check_text(body, "body")
    article.number = numbering.next_reference(PREFIX)
    article.save()
    services = [s for s in services if s is not None]
    if services:
        article.services.set(services)
    ArticleTranslation.objects.create(
        article=article, language=article.language, title=title, body=body, updated_by=actor
    )
    journal.record_created(article, actor)
    search.index(article)
    return article


@transaction.atomic
def lock_version(article: Article, *, actor: User | None, version: int | None) -> Article:
    """Lock the article for the caller's transaction, refusing a stale ``version`` (409);
    several writes of one request then share one version check."""
    _require_staff(_actor(actor), "edit knowledge articles")
    return _lock(article, version)


@transaction.atomic
def update_article(
    article: Article, *, actor: User | None, version: int | None, **changes: Any
) -> Article:
    """Change the metadata of an article (``EDITABLE_FIELDS``); a stale version is a 409."""
    actor = _actor(actor)
    _require_staff(actor, "edit knowledge articles")
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationFailed(f"{unknown[0]} cannot be changed here", field=unknown[0])
    locked = _lock(article, version)
    before: dict[str, Any] = {}
    fields = []
    for name, value in changes.items():
        if name == "services":
            current = sorted(locked.services.values_list("code", flat=True))
            new = [s for s in value if s is not None]
            if sorted(s.code for s in new) != current:
                before["services"] = (", ".join(current), ", ".join(sorted(s.code for s in new)))
                locked.services.set(new)
            continue
        if name == "article_type":
            value = _check_choice(value, "type", ArticleType.values)
        elif name == "language":
            value = _check_choice(value, "language", LANGUAGES)
            if not locked.translations.filter(language=value).exists():
                raise ValidationFailed(
                    "the original language needs a translation first", field="language"
                )
        old = getattr(locked, name)
        if old != value:
            before[name] = (old, value)
            setattr(locked, name, value)
            fields.append(name)
    if before:
        _bump(locked, fields)
        journal.record_changes(locked, actor, before)
        search.index(locked)
    _sync(article, locked)
    return article


@transaction.atomic
def save_translation(
    article: Article,
    *,
    actor: User | None,
    language: str,
    title: str,
    body: str,
    version: int | None = None,
) -> ArticleTranslation:
    """Write (or add) the text of ``article`` in ``language``; journaled, reindexed."""
    actor = _actor(actor)
    _require_staff(actor, "edit knowledge articles")
    language = _check_choice(language, "language", LANGUAGES)
    title = _check_text(title, "title", max_length=200)
    body = _check_text(body, "body")
    locked = _lock(article, version)
    translation = ArticleTranslation.objects.filter(article=locked, language=language).first()
    old_title, old_body = (translation.title, translation.body) if translation else ("", "")
    if translation is None:
        translation = ArticleTranslation(article=locked, language=language)
    if (old_title, old_body) == (title, body) and translation.pk:
        _sync(article, locked)
        return translation
    translation.title, translation.body = title, body
    translation.updated_at, translation.updated_by = timezone.now(), actor
    translation.save()
    _bump(locked, [])
    journal.record_changes(
        locked,
        actor,
        {f"title [{language}]": (old_title, title), f"body [{language}]": (old_body, body)},
    )
    search.index(locked)
    _sync(article, locked)
    return translation


@transaction.atomic
def edit_article(
    article: Article,
    *,
    actor: User | None,
    version: int | None,
    text_language: str,
    title: str,
    body: str,
    **changes: Any,
) -> Article:
    """One edit of the form: metadata (``EDITABLE_FIELDS``) and the text in
    ``text_language``, under one version check."""
    _lock(article, version)
    save_translation(article, actor=actor, language=text_language, title=title, body=body)
    if changes:
        update_article(article, actor=actor, version=None, **changes)
    return article


def next_states(article: Article, actor) -> list[str]:
    """The states ``actor`` may move ``article`` to now (what the UI offers)."""
    if not is_staff(actor):
        return []
    return [
        target
        for target in LIFECYCLE.available(article)
        if target not in MANAGED_TARGETS or may_publish(actor)
    ]


@transaction.atomic
def transition(
    article: Article,
    to: str,
    *,
    actor: User | None,
    version: int | None = None,
    note: str = "",
) -> Article:
    """Move the article along its lifecycle (``models.LIFECYCLE``)."""
    actor = _actor(actor)
    _require_staff(actor, "change the state of articles")
    if to not in State.values:
        raise ValidationFailed(f"unknown state {to!r}", field="to")
    if to in MANAGED_TARGETS and not may_publish(actor):
        raise PermissionDenied("only knowledge managers may publish or retire articles")
    locked = _lock(article, version)
    if LIFECYCLE.find(locked.state, to) is not None:
        refusal = LIFECYCLE.refusal(locked, to, actor=actor)
        if refusal is not None:
            raise ValidationFailed(refusal, field="to")
    old, new = LIFECYCLE.apply(locked, to, actor=actor)
    now = timezone.now()
    fields = ["state"]
    if new == State.PUBLISHED:
        locked.published_at, locked.retired_at = now, None
        locked.revision += 1
        fields += ["published_at", "retired_at", "revision"]
    elif new == State.RETIRED:
        locked.retired_at = now
        fields.append("retired_at")
    _bump(locked, fields)
    journal.record_state_change(locked, actor, "state", old, new, note=(note or "").strip())
    _sync(article, locked)
    return article


def _publish_now(article: Article, actor, note: str) -> None:
    """Walk a draft or retired article to published (the system's own publication)."""
    if article.state == State.RETIRED:
        transition(article, State.DRAFT, actor=actor, note=note)
    if article.state == State.DRAFT:
        transition(article, State.REVIEW, actor=actor, note=note)
    if article.state == State.REVIEW:
        transition(article, State.PUBLISHED, actor=actor, note=note)


def known_error_text(problem) -> tuple[str, str]:
    """Title and Markdown body of the known-error article of ``problem`` (duck-typed)."""
    number = getattr(problem, "number", "") or ""
    title = (getattr(problem, "title", "") or "").strip() or number
    parts = []
    description = (getattr(problem, "description", "") or "").strip()
    if description:
        parts.append(f"## Symptoms\n\n{description}")
    root_cause = (getattr(problem, "root_cause", "") or "").strip()
    parts.append(f"## Cause\n\n{root_cause or 'Under investigation.'}")
    workaround = (getattr(problem, "workaround", "") or "").strip()
    parts.append(f"## Workaround\n\n{workaround or 'No workaround yet.'}")
    if number:
        parts.append(f"*Known error of problem {number}.*")
    return f"Known error: {title}"[:200], "\n\n".join(parts)


@transaction.atomic
def publish_known_error(problem, *, actor: User | None, language: str = "en") -> Article:
    """Create or update the published known-error article of ``problem``.

    ``problem`` gives ``number``, ``title``, ``root_cause``, ``workaround``, ``service``
    (may be ``None``) and optionally ``description``. An article already linked to the
    problem is updated (its text, services) and republished, never duplicated; calling
    this twice with the same problem changes nothing the second time.
    """
    actor = _actor(actor)
    title, body = known_error_text(problem)
    service = getattr(problem, "service", None)
    problem_pk = getattr(problem, "pk", None)
    existing = None
    if problem_pk is not None:
        existing = Article.objects.select_for_update().filter(problem_id=problem_pk).first()
    if existing is None:
        article = create_article(
            actor=actor,
            title=title,
            body=body,
            language=language,
            article_type=ArticleType.KNOWN_ERROR,
            services=[service] if service is not None else [],
            owner=actor,
            problem=problem if problem_pk is not None else None,
        )
    else:
        article = existing
        save_translation(article, actor=actor, language=article.language, title=title, body=body)
        if service is not None and not article.services.filter(pk=service.pk).exists():
            article.services.add(service)
            search.index(article)
    number = getattr(problem, "number", "") or ""
    _publish_now(article, None, f"known error published from problem {number}".strip())
    return reload(article)


@transaction.atomic
def retire_known_error(problem, *, actor: User | None = None) -> Article | None:
    """Retire the published known-error article of ``problem`` (once the fix is in place);
    ``None`` when the problem has none. Safe to call twice."""
    problem_pk = getattr(problem, "pk", None)
    article = Article.objects.filter(problem_id=problem_pk).first() if problem_pk else None
    if article is None:
        return None
    if article.state == State.PUBLISHED:
        number = getattr(problem, "number", "") or ""
        transition(article, State.RETIRED, actor=None, note=f"problem {number} resolved".strip())
    return reload(article)


@transaction.atomic
def record_view(article: Article) -> None:
    """Count a reader opening the article (no version bump, no journal)."""
    Article.objects.filter(pk=article.pk).update(view_count=F("view_count") + 1)


@transaction.atomic
def vote(article: Article, *, actor: User | None, helpful: bool) -> None:
    """A reader says whether the article helped (counters only)."""
    if article.state != State.PUBLISHED:
        raise TransitionNotAllowed("only published articles take votes", field="state")
    field = "helpful_count" if helpful else "not_helpful_count"
    Article.objects.filter(pk=article.pk).update(**{field: F(field) + 1})


def resolution_notes(article: Article, language: str | None = None) -> str:
    translation = article.translation(language)
    title = translation.title if translation else article.number
    link = reverse("knowledge:detail", args=[article.number])
    return f"Resolved with knowledge article {article.number}: {title}\n{link}"


@transaction.atomic
def resolve_with_article(
    incident: Incident,
    article: Article,
    *,
    actor: User | None,
    resolution_code: str = "",
    notes: str = "",
    version: int | None = None,
) -> ArticleUse:
    """Resolve ``incident`` with a published article and record the use.

    The incident moves through ``incidents.services.transition`` (same guards, clocks and
    journal as any resolution); the resolution notes name the article (number, title,
    link). The default code is ``workaround`` for a known error, ``user_education`` for a
    how-to or FAQ.
    """
    from itsmo.incidents import services as incidents

    actor = _actor(actor)
    _require_staff(actor, "resolve incidents")
    if article.state != State.PUBLISHED:
        raise ValidationFailed("only a published article can resolve an incident", field="article")
    if not resolution_code:
        resolution_code = (
            ResolutionCode.WORKAROUND
            if article.article_type == ArticleType.KNOWN_ERROR
            else ResolutionCode.USER_EDUCATION
        )
    _check_choice(resolution_code, "resolution_code", RESOLUTION_CODES)
    text = resolution_notes(article, getattr(incident.caller, "language", "") or None)
    if (notes or "").strip():
        text = f"{notes.strip()}\n\n{text}"
    incidents.transition(
        incident,
        "resolved",
        actor=actor,
        version=version,
        resolution_code=resolution_code,
        resolution_notes=text,
    )
    return ArticleUse.objects.create(article=article, incident=incident, used_by=actor)
