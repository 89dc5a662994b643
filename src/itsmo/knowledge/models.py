"""Knowledge: articles (how-to, known error, FAQ) in several languages.

Every write goes through :mod:`itsmo.knowledge.services`; this module holds the data, the
lifecycle table and the ``visible_to`` rule.

Scope: knowledge is company-wide (not region-scoped): staff see every article in every
state; end users see published articles only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itsmo.core.models import TimeStampedModel
from itsmo.core.states import StateMachine, Transition


class ArticleType(models.TextChoices):
    HOW_TO = "how_to", _("How-to")
    KNOWN_ERROR = "known_error", _("Known error")
    FAQ = "faq", _("FAQ")


class State(models.TextChoices):
    DRAFT = "draft", _("Draft")
    REVIEW = "review", _("In review")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


#: The UI languages; an article can have one translation in each.
LANGUAGES = tuple(code for code, _name in settings.LANGUAGES)


class ArticleQuerySet(models.QuerySet):
    def visible_to(self, user) -> ArticleQuerySet:
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_staff_member:
            return self.all()
        return self.filter(state=State.PUBLISHED)

    def published(self) -> ArticleQuerySet:
        return self.filter(state=State.PUBLISHED)


ArticleManager = models.Manager.from_queryset(ArticleQuerySet)


class Article(TimeStampedModel):
    """A knowledge article; its text lives in one :class:`ArticleTranslation` per language."""

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    article_type = models.CharField(
        _("type"), max_length=20, choices=ArticleType.choices, default=ArticleType.HOW_TO
    )
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.DRAFT)
    #: The language the article was written in; the fallback for every other language.
    language = models.CharField(_("original language"), max_length=10, choices=settings.LANGUAGES)
    services = models.ManyToManyField(
        "catalog.Service", blank=True, related_name="articles", verbose_name=_("services")
    )
    category = models.ForeignKey(
        "incidents.Category",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="articles",
        verbose_name=_("category"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="knowledge_articles",
        verbose_name=_("owner"),
    )
    #: A known-error article documents this problem's workaround (one article per problem).
    problem = models.ForeignKey(
        "problems.Problem",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="articles",
        verbose_name=_("problem"),
    )
    #: Counts the times the article was published (1 for the first publication).
    revision = models.PositiveIntegerField(_("revision"), default=0)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)
    view_count = models.PositiveIntegerField(_("views"), default=0)
    helpful_count = models.PositiveIntegerField(_("helpful"), default=0)
    not_helpful_count = models.PositiveIntegerField(_("not helpful"), default=0)

    objects = ArticleManager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("knowledge article")
        verbose_name_plural = _("knowledge articles")
        indexes = [
            models.Index(fields=["state", "article_type"], name="article_state_type"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["problem"],
                condition=Q(problem__isnull=False),
                name="article_unique_problem",
            ),
        ]

    def __str__(self) -> str:
        translation = self.translation()
        return f"{self.number} {translation.title}" if translation else self.number

    def translations_by_language(self) -> dict[str, ArticleTranslation]:
        cached = getattr(self, "_prefetched_objects_cache", {}).get("translations")
        rows = cached if cached is not None else self.translations.all()
        return {t.language: t for t in rows}

    def translation(self, language: str | None = None) -> ArticleTranslation | None:
        """The text in ``language``, else in the original language, else any."""
        texts = self.translations_by_language()
        for code in (language, self.language):
            if code and code in texts:
                return texts[code]
        return next(iter(texts.values()), None)

    @property
    def title(self) -> str:
        translation = self.translation()
        return translation.title if translation else ""

    @property
    def is_published(self) -> bool:
        return self.state == State.PUBLISHED

    def api_snapshot(self) -> dict:
        """What a 409 answer shows of the current record."""
        return {
            "number": self.number,
            "state": self.state,
            "type": self.article_type,
            "title": self.title,
            "version": self.version,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


class ArticleTranslation(models.Model):
    """The title and body of an article in one language (Markdown, sanitised on render)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), help_text=_("Markdown or plain text."))
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["language"]
        verbose_name = _("article translation")
        verbose_name_plural = _("article translations")
        constraints = [
            models.UniqueConstraint(
                fields=["article", "language"], name="article_translation_unique_language"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.article_id} [{self.language}] {self.title}"


class ArticleUse(models.Model):
    """An article used as the resolution of an incident ("articles used to resolve")."""

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="uses")
    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="article_uses"
    )
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    used_at = models.DateTimeField(_("used"), default=timezone.now)

    class Meta:
        ordering = ["-used_at", "-id"]
        verbose_name = _("article use")
        verbose_name_plural = _("article uses")
        indexes = [models.Index(fields=["article", "used_at"], name="article_use_article")]

    def __str__(self) -> str:
        return f"{self.article_id} → {self.incident_id}"


# -- lifecycle ------------------------------------------------------------------------------


def _needs_text(article: Article, **context) -> str | None:
    original = article.translations_by_language().get(article.language)
    if original is None or not original.title.strip() or not original.body.strip():
        return str(_("the article needs a title and a body in its original language"))
    return None


LIFECYCLE = StateMachine(
    "state",
    [
        Transition(State.DRAFT, State.REVIEW, guard=_needs_text, label=_("Submit for review")),
        Transition(State.REVIEW, State.DRAFT, label=_("Send back to draft")),
        Transition(State.REVIEW, State.PUBLISHED, guard=_needs_text, label=_("Publish")),
        Transition(State.PUBLISHED, State.DRAFT, label=_("New revision")),
        Transition(State.PUBLISHED, State.RETIRED, label=_("Retire")),
        Transition(State.RETIRED, State.DRAFT, label=_("Revive as draft")),
    ],
)
#: Targets that need a knowledge manager (see ``services.may_publish``).
MANAGED_TARGETS = frozenset({State.PUBLISHED, State.RETIRED})


def transition_label(target: str) -> str:
    for transition in LIFECYCLE.transitions:
        if transition.target == target:
            return str(transition.label)
    return target
