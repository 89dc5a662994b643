"""Admin: articles, their translations and uses are looked at only; they change through
services.py (review and publishing, journaled)."""

from django.contrib import admin

from itsmo.core.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import Article, ArticleTranslation, ArticleUse


class TranslationInline(ReadOnlyInline):
    model = ArticleTranslation
    fields = ("language", "title", "updated_at", "updated_by")


class UseInline(ReadOnlyInline):
    model = ArticleUse
    fields = ("incident", "used_by", "used_at")


@admin.register(Article)
class ArticleAdmin(ReadOnlyAdmin):
    list_display = ("number", "title", "article_type", "state", "language", "revision")
    list_filter = ("state", "article_type", "language")
    search_fields = ("number", "translations__title")
    inlines = [TranslationInline, UseInline]
