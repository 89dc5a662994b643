"""The search documents: one row per indexed record, written only by :mod:`itsmo.search.services`.

PostgreSQL keeps the weighted ``tsvector`` in :attr:`SearchDocument.vector` (GIN index);
SQLite keeps the text in the FTS5 table ``search_fts`` whose ``rowid`` is the document's id
(a trigger removes it with the document). Each searchable record type gets its own nullable
one-to-one key, like SLA clocks do, so a search is one join from the record's own queryset.
"""

from __future__ import annotations

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils import timezone


class TextSearchVectorField(SearchVectorField):
    """``tsvector`` on PostgreSQL; an unused nullable column elsewhere (SQLite uses FTS5)."""

    description = "full-text search vector"

    def db_type(self, connection):
        return "tsvector" if connection.vendor == "postgresql" else "text"


class SearchDocument(models.Model):
    incident = models.OneToOneField(
        "incidents.Incident",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="search_document",
    )
    article = models.OneToOneField(
        "knowledge.Article",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="search_document",
    )
    vector = TextSearchVectorField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "search document"
        verbose_name_plural = "search documents"

    def __str__(self) -> str:
        return f"search document {self.pk}"
