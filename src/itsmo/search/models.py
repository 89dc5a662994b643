"""The search documents: one row per indexed record, written only by :mod:`itsmo.search.services`.

PostgreSQL keeps the weighted ``tsvector`` in :attr:`SearchDocument.vector` (GIN index);
SQLite keeps the text in the FTS5 table ``search_fts`` whose ``rowid`` is the document's id
(a trigger removes it with the document). Each searchable record type gets its own nullable
one-to-one key, like SLA clocks do, so a search is one join from the record's own queryset.

A region-scoped record's document also holds a copy of the record's scope (``country``,
``region``: the fields ``visible_to`` reads), so a search by a regional agent narrows the
full-text matches to the agent's countries in the index (GIN bitmap AND the scope B-tree)
instead of reading every matching record to check its scope. The copy only narrows: the
search still intersects with ``visible_to(user)``, so a stale copy can hide a record from a
search but never show one the user may not see.
"""

from __future__ import annotations

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
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
    problem = models.OneToOneField(
        "problems.Problem",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="search_document",
    )
    vector = TextSearchVectorField(null=True, blank=True, editable=False)
    #: A copy of the record's scope, written with the text by ``search.index``; no database
    #: constraint (the record's own key is checked; a document never outlives its record).
    country = models.ForeignKey(
        "organization.Country",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    region = models.ForeignKey(
        "organization.Region",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "search document"
        verbose_name_plural = "search documents"
        indexes = [
            # A scoped search ANDs these bitmaps with the GIN one (see ``search.search``).
            models.Index(
                fields=["country"],
                condition=Q(country__isnull=False),
                name="search_document_country",
            ),
            models.Index(
                fields=["region"],
                condition=Q(country__isnull=True, region__isnull=False),
                name="search_document_region",
            ),
        ]

    def __str__(self) -> str:
        return f"search document {self.pk}"
