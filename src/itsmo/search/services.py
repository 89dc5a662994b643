"""Full-text search: the one module that knows the engine.

* PostgreSQL: a weighted ``tsvector`` per record in ``search_searchdocument`` with a GIN
  index, configuration ``'simple'`` (records mix Spanish, Portuguese and English, often in
  one ticket; a stemmer per language would split the same word into different lexemes, and
  people search for error codes, host names and CI names more than for inflected words).
* SQLite (the embedded default): the FTS5 virtual table ``search_fts`` (``unicode61``
  tokenizer), ranked with ``bm25``.

Both engines see the same tokens: text and queries are lower-cased, stripped of accents and
cut into runs of letters and digits here in Python (``"São Paulo: e-mail!"`` is
``sao paulo e mail``), so results do not depend on either engine's parser. A query matches
records holding every one of its words; words of three or more characters also match as
prefixes (``print`` finds ``printer``), which stands in for stemming. Query text is never
passed to an engine's query syntax: quotes, operators and brackets are just separators, and
a query without any word finds nothing.

Weights: the number and short description (A / 10), description and resolution notes
(B / 4), public comments (C / 1); knowledge articles: number and titles of every language
(A), bodies (B), category and services (C). Work notes are **not** indexed: what the
search matches is what the caller of the record may read anyway, so no rule beyond
``visible_to`` is needed.

API: :func:`index` and :func:`remove` (called by the record's services in their
transaction), :func:`index_many` (bulk writers, the reindex command), :func:`search`
(ranked, always through ``visible_to(user)``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection, models
from django.db.models import F
from django.db.models.expressions import RawSQL
from django.utils import timezone

from .models import SearchDocument

#: Characters of one indexed part (a tsvector holds at most 1 MB).
MAX_PART = 100_000
#: Words of at least this many characters match as prefixes.
PREFIX_MIN = 3
#: At most this many words of a query are used.
MAX_WORDS = 12
#: FTS5 ``bm25`` column weights (title, body, comments); PostgreSQL uses A, B, C.
FTS_WEIGHTS = (10.0, 4.0, 1.0)

_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Document:
    """What gets indexed for one record: three parts of decreasing weight."""

    pk: int
    title: str
    body: str
    comments: str


def normalize(text: str) -> str:
    """Lower-case, accent-free words separated by single spaces."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_WORD.findall(plain))


def words(query: str | None) -> list[str]:
    return normalize(query or "").split()[:MAX_WORDS]


# -- what a record's document holds ---------------------------------------------------------


def _incident_documents(pks: Sequence[int]) -> list[Document]:
    from itsmo.core.models import JournalEntry, JournalKind
    from itsmo.incidents.models import Incident

    comments: dict[int, list[str]] = {}
    entries = JournalEntry.objects.filter(
        content_type=_content_type(Incident), object_id__in=pks, kind=JournalKind.COMMENT
    ).order_by("object_id", "occurred_at", "id")
    for object_id, body in entries.values_list("object_id", "body"):
        comments.setdefault(object_id, []).append(body)
    rows = Incident.objects.filter(pk__in=pks).values_list(
        "pk", "number", "short_description", "description", "resolution_notes"
    )
    return [
        Document(
            pk=pk,
            title=normalize(f"{number} {short}")[:MAX_PART],
            body=normalize(f"{description}\n{notes}")[:MAX_PART],
            comments=normalize("\n".join(comments.get(pk, ())))[:MAX_PART],
        )
        for pk, number, short, description, notes in rows
    ]


def _article_documents(pks: Sequence[int]) -> list[Document]:
    """An article: number and the titles of every language (A), the bodies (B), its
    category and services (C). One document holds every language, so a query in any of
    them finds the article; the reader gets the text in their own language."""
    from itsmo.knowledge.models import Article

    articles = Article.objects.filter(pk__in=pks).select_related("category")
    articles = articles.prefetch_related("translations", "services")
    documents = []
    for article in articles:
        texts = list(article.translations.all())
        about = [str(article.category or "")]
        about += [f"{s.code} {s.name}" for s in article.services.all()]
        documents.append(
            Document(
                pk=article.pk,
                title=normalize(" ".join([article.number, *(t.title for t in texts)]))[:MAX_PART],
                body=normalize("\n".join(t.body for t in texts))[:MAX_PART],
                comments=normalize("\n".join(about))[:MAX_PART],
            )
        )
    return documents


def _content_type(model):
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(model, for_concrete_model=False)


#: model label -> (document builder, SearchDocument's key field)
_SEARCHABLE = {
    "incidents.incident": (_incident_documents, "incident"),
    "knowledge.article": (_article_documents, "article"),
}


def _registration(model) -> tuple:
    label = model._meta.label_lower
    if label not in _SEARCHABLE:
        raise ValueError(f"{label} is not searchable")
    return _SEARCHABLE[label]


# -- writing ---------------------------------------------------------------------------------

_PG_VECTOR = (
    "setweight(to_tsvector('simple', %s), 'A') || setweight(to_tsvector('simple', %s), 'B')"
    " || setweight(to_tsvector('simple', %s), 'C')"
)


def _write(key: str, documents: Sequence[Document]) -> None:
    if not documents:
        return
    table = SearchDocument._meta.db_table
    column = f"{key}_id"
    now = timezone.now()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.executemany(
                f"INSERT INTO {table} ({column}, vector, updated_at) VALUES (%s, {_PG_VECTOR}, %s)"
                f" ON CONFLICT ({column}) DO UPDATE SET vector = EXCLUDED.vector,"
                " updated_at = EXCLUDED.updated_at",
                [(d.pk, d.title, d.body, d.comments, now) for d in documents],
            )
            return
        cursor.executemany(
            f"INSERT INTO {table} ({column}, updated_at) VALUES (%s, %s)"
            f" ON CONFLICT ({column}) DO UPDATE SET updated_at = excluded.updated_at",
            [(d.pk, now) for d in documents],
        )
        ids = dict(
            SearchDocument.objects.filter(**{f"{column}__in": [d.pk for d in documents]})
            .values_list(column, "pk")
            .iterator()
        )
        rows = [(ids[d.pk], d.title, d.body, d.comments) for d in documents]
        cursor.executemany("DELETE FROM search_fts WHERE rowid = %s", [(r[0],) for r in rows])
        cursor.executemany(
            "INSERT INTO search_fts (rowid, title, body, comments) VALUES (%s, %s, %s, %s)", rows
        )


def index(record: models.Model) -> None:
    """(Re)index one record; call it inside the transaction that changed its text."""
    build, key = _registration(type(record))
    _write(key, build([record.pk]))


def index_many(model, pks: Iterable[int], *, batch: int = 2000) -> int:
    """(Re)index many records of ``model`` in batches; returns how many were indexed."""
    build, key = _registration(model)
    pks = list(pks)
    done = 0
    for start in range(0, len(pks), batch):
        documents = build(pks[start : start + batch])
        _write(key, documents)
        done += len(documents)
    return done


def remove(record: models.Model) -> None:
    """Forget a record (deleting the record also removes its document)."""
    _, key = _registration(type(record))
    SearchDocument.objects.filter(**{key: record.pk}).delete()


def reindex(model, *, batch: int = 2000, log=lambda message: None) -> int:
    """Rebuild every document of ``model`` (and drop documents of records that are gone)."""
    _registration(model)  # refuses a model that is not searchable
    pks = list(model._default_manager.order_by("pk").values_list("pk", flat=True))
    done = 0
    for start in range(0, len(pks), batch):
        done += index_many(model, pks[start : start + batch], batch=batch)
        log(f"{done}/{len(pks)}")
    # Documents whose record is gone have every key null (a key of another record type
    # is null on this one's documents, so one key being null is not enough).
    keys = [registration[1] for registration in _SEARCHABLE.values()]
    SearchDocument.objects.filter(**{f"{name}__isnull": True for name in keys}).delete()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM search_fts WHERE rowid NOT IN"
                f" (SELECT id FROM {SearchDocument._meta.db_table})"
            )
    return done


# -- reading ---------------------------------------------------------------------------------


def _pg_query(terms: list[str], match: str = "all") -> str:
    joiner = " | " if match == "any" else " & "
    return joiner.join(f"{t}:*" if len(t) >= PREFIX_MIN else t for t in terms)


def _fts_query(terms: list[str], match: str = "all") -> str:
    joiner = " OR " if match == "any" else " AND "
    return joiner.join(f'"{t}"*' if len(t) >= PREFIX_MIN else f'"{t}"' for t in terms)


def search(
    model,
    query: str | None,
    user,
    *,
    queryset: models.QuerySet | None = None,
    match: str = "all",
):
    """Records of ``model`` that ``user`` may see and that match ``query``, best first.

    The result is a queryset (annotated with ``search_rank``, ordered by it, newest first
    among equals); ``queryset`` narrows the records further (filters of a list view).
    ``match="any"`` finds records holding any of the words instead of all of them, ranked
    by how many and how rare (suggestions from free text, e.g. knowledge deflection).
    """
    if match not in ("all", "any"):
        raise ValueError("match must be 'all' or 'any'")
    _, key = _registration(model)
    base = model._default_manager.all() if queryset is None else queryset
    base = base & model._default_manager.visible_to(user)
    terms = words(query)
    if not terms:
        return base.none()
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank

        tsquery = SearchQuery(_pg_query(terms, match), search_type="raw", config="simple")
        return (
            base.filter(search_document__vector=tsquery)
            .annotate(search_rank=SearchRank(F("search_document__vector"), tsquery))
            .order_by("-search_rank", "-pk")
        )
    expression = _fts_query(terms, match)
    table = SearchDocument._meta.db_table
    own = f'"{model._meta.db_table}"."{model._meta.pk.column}"'
    weights = ", ".join(str(w) for w in FTS_WEIGHTS)
    matching = RawSQL(
        f"SELECT d.{key}_id FROM search_fts JOIN {table} d ON d.id = search_fts.rowid"
        " WHERE search_fts MATCH %s",
        [expression],
    )
    rank = RawSQL(
        f"SELECT -bm25(search_fts, {weights}) FROM search_fts WHERE search_fts MATCH %s"
        f" AND search_fts.rowid = (SELECT d.id FROM {table} d WHERE d.{key}_id = {own})",
        [expression],
        output_field=models.FloatField(),
    )
    return base.filter(pk__in=matching).annotate(search_rank=rank).order_by("-search_rank", "-pk")
