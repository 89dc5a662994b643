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

Weights: incidents: the number and short description (A / 10), description and
resolution notes (B / 4), public comments (C / 1); problems: the number and title (A),
description, root cause, workaround and resolution notes (B), public comments (C);
knowledge articles: number and titles of every language (A), bodies (B), category and
services (C). Work notes are **not** indexed (neither an incident's nor a problem's): what
the search matches is what the caller of the record may read anyway, so no rule beyond
``visible_to`` is needed.

Scope: an incident's or a problem's document also holds a copy of the record's country and
region (written by :func:`index`, :func:`index_many` and :func:`reindex` with the text). A
staff user with a regional scope searches the documents of their countries (and of their
regions' country-less records; for problems also the records with neither, which every
staff member sees) only, in the index: PostgreSQL ANDs the GIN bitmap with the scope
B-tree bitmaps, so a query matching 10,000 incidents of other countries reads none of them.
The result is still intersected with ``visible_to(user)``: the copy narrows, the record
decides. A service that changes a record's country (a problem's region too: it can have a
region alone) must call :func:`index` (a stale copy hides the record from searches of the
new country's agents, it never leaks it).

API: :func:`index` and :func:`remove` (called by the record's services in their
transaction; ``index(record, fresh=True)`` for a record created in this transaction),
:func:`index_many` (bulk writers, the reindex command), :func:`search` (ranked, always
through ``visible_to(user)``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.db import connection, models
from django.db.models import F, Q, Value
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
    """What gets indexed for one record: three parts of decreasing weight, and its scope."""

    pk: int
    title: str
    body: str
    comments: str
    country_id: int | None = None
    region_id: int | None = None


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


def _document(
    pk, title: Sequence[str], body: Sequence[str], comments: Sequence[str], country_id, region_id
) -> Document:
    return Document(
        pk=pk,
        title=normalize(" ".join(title))[:MAX_PART],
        body=normalize("\n".join(body))[:MAX_PART],
        comments=normalize("\n".join(comments))[:MAX_PART],
        country_id=country_id,
        region_id=region_id,
    )


def _public_comments(model, pks: Sequence[int]) -> dict[int, list[str]]:
    """The public comments of the given records, oldest first (work notes are left out)."""
    from itsmo.core.models import JournalEntry, JournalKind

    comments: dict[int, list[str]] = {}
    entries = JournalEntry.objects.filter(
        content_type=_content_type(model), object_id__in=pks, kind=JournalKind.COMMENT
    ).order_by("object_id", "occurred_at", "id")
    for object_id, body in entries.values_list("object_id", "body"):
        comments.setdefault(object_id, []).append(body)
    return comments


def _incident_documents(pks: Sequence[int]) -> list[Document]:
    from itsmo.incidents.models import Incident

    comments = _public_comments(Incident, pks)
    rows = Incident.objects.filter(pk__in=pks).values_list(
        "pk", "number", "short_description", "description", "resolution_notes", "country", "region"
    )
    return [
        _document(pk, (number, short), (description, notes), comments.get(pk, ()), c, r)
        for pk, number, short, description, notes, c, r in rows
    ]


def _new_incident_document(incident) -> Document:
    """The document of an incident created in this transaction, from the instance: it has
    no public comment yet, and its text and scope are what the service just saved."""
    return _document(
        incident.pk,
        (incident.number, incident.short_description),
        (incident.description, incident.resolution_notes),
        (),
        incident.country_id,
        incident.region_id,
    )


def _problem_documents(pks: Sequence[int]) -> list[Document]:
    """A problem: number and title (A); description, root cause, workaround and resolution
    notes (B); public comments (C). Work notes are not indexed, as for incidents."""
    from itsmo.problems.models import Problem

    comments = _public_comments(Problem, pks)
    rows = Problem.objects.filter(pk__in=pks).values_list(
        "pk",
        "number",
        "title",
        "description",
        "root_cause",
        "workaround",
        "resolution_notes",
        "country",
        "region",
    )
    return [
        _document(
            pk, (number, title), (description, cause, workaround, notes), comments.get(pk, ()), c, r
        )
        for pk, number, title, description, cause, workaround, notes, c, r in rows
    ]


def _new_problem_document(problem) -> Document:
    """The document of a problem opened in this transaction, from the instance: no comment
    yet, and its text and scope are what the service just saved."""
    return _document(
        problem.pk,
        (problem.number, problem.title),
        (problem.description, problem.root_cause, problem.workaround, problem.resolution_notes),
        (),
        problem.country_id,
        problem.region_id,
    )


def _staff_see_by_scope(user) -> bool:
    """Staff see incidents by their region scope (what the document's copy narrows on);
    end users see those they called or are affected by, whatever the country."""
    return bool(getattr(user, "is_staff_member", False))


def _always_by_scope(user) -> bool:
    """Problems are seen by region scope only (``visible_to`` gives end users none)."""
    return True


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


@dataclass(frozen=True)
class _Searchable:
    #: Documents of the given primary keys, read from the database.
    build: Callable[[Sequence[int]], list[Document]]
    #: SearchDocument's key field for this model.
    key: str
    #: The document of a record created in this transaction, from the instance (no read);
    #: ``None``: ``index(record, fresh=True)`` reads it like ``index`` does.
    build_new: Callable[[models.Model], Document] | None = None
    #: Whether ``visible_to(user)`` is the region scope for this user (then a search
    #: narrows on the document's copy of the scope); ``None``: the model is not scoped.
    scoped_for: Callable[[object], bool] | None = None


#: model label -> how its documents are built and searched
_SEARCHABLE = {
    "incidents.incident": _Searchable(
        _incident_documents,
        "incident",
        build_new=_new_incident_document,
        scoped_for=_staff_see_by_scope,
    ),
    # Knowledge is company-wide: its documents have no scope.
    "knowledge.article": _Searchable(_article_documents, "article"),
    "problems.problem": _Searchable(
        _problem_documents,
        "problem",
        build_new=_new_problem_document,
        scoped_for=_always_by_scope,
    ),
}


def _registration(model) -> _Searchable:
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
                f"INSERT INTO {table} ({column}, country_id, region_id, vector, updated_at)"
                f" VALUES (%s, %s, %s, {_PG_VECTOR}, %s)"
                f" ON CONFLICT ({column}) DO UPDATE SET vector = EXCLUDED.vector,"
                " country_id = EXCLUDED.country_id, region_id = EXCLUDED.region_id,"
                " updated_at = EXCLUDED.updated_at",
                [
                    (d.pk, d.country_id, d.region_id, d.title, d.body, d.comments, now)
                    for d in documents
                ],
            )
            return
        cursor.executemany(
            f"INSERT INTO {table} ({column}, country_id, region_id, updated_at)"
            " VALUES (%s, %s, %s, %s)"
            f" ON CONFLICT ({column}) DO UPDATE SET country_id = excluded.country_id,"
            " region_id = excluded.region_id, updated_at = excluded.updated_at",
            [(d.pk, d.country_id, d.region_id, now) for d in documents],
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


def _insert(key: str, document: Document) -> None:
    """Write the document of a record that has none yet: one plain INSERT on PostgreSQL
    (a second document for the record breaks the unique key, it is not overwritten)."""
    table = SearchDocument._meta.db_table
    column = f"{key}_id"
    scope = (document.country_id, document.region_id)
    now = timezone.now()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} ({column}, country_id, region_id, vector, updated_at)"
                f" VALUES (%s, %s, %s, {_PG_VECTOR}, %s)",
                (document.pk, *scope, document.title, document.body, document.comments, now),
            )
            return
        cursor.execute(
            f"INSERT INTO {table} ({column}, country_id, region_id, updated_at)"
            " VALUES (%s, %s, %s, %s)",
            (document.pk, *scope, now),
        )
        cursor.execute(
            "INSERT INTO search_fts (rowid, title, body, comments) VALUES (%s, %s, %s, %s)",
            (cursor.lastrowid, document.title, document.body, document.comments),
        )


def index(record: models.Model, *, fresh: bool = False) -> None:
    """(Re)index one record; call it inside the transaction that changed its text or scope.

    ``fresh=True``: the record was created in this very transaction and has no document
    yet; the document is built from the instance where the model allows it (an incident or
    a problem: its text and scope as saved, no comments yet; nothing is read back) and
    written with one plain INSERT.
    """
    searchable = _registration(type(record))
    if not fresh:
        _write(searchable.key, searchable.build([record.pk]))
        return
    if searchable.build_new is not None:
        document = searchable.build_new(record)
    else:
        (document,) = searchable.build([record.pk])
    _insert(searchable.key, document)


def index_many(model, pks: Iterable[int], *, batch: int = 2000) -> int:
    """(Re)index many records of ``model`` in batches; returns how many were indexed."""
    searchable = _registration(model)
    pks = list(pks)
    done = 0
    for start in range(0, len(pks), batch):
        documents = searchable.build(pks[start : start + batch])
        _write(searchable.key, documents)
        done += len(documents)
    return done


def remove(record: models.Model) -> None:
    """Forget a record (deleting the record also removes its document)."""
    key = _registration(type(record)).key
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
    keys = [searchable.key for searchable in _SEARCHABLE.values()]
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


def _document_scope(searchable: _Searchable, model, user) -> Q | None:
    """The condition on the record's document that ``visible_to(user)`` implies, or
    ``None`` when it implies none (global scope, not scoped for this user, not scoped)."""
    from itsmo.core.scoping import scope_of

    scope = scope_of(user)
    if scope.is_global or searchable.scoped_for is None or not searchable.scoped_for(user):
        return None
    document = "search_document"
    condition = Q(**{f"{document}__country__in": scope.country_ids}) | Q(
        **{f"{document}__region__in": scope.region_ids, f"{document}__country__isnull": True}
    )
    if getattr(model, "scope_unscoped_is_global", False):
        condition |= Q(
            **{f"{document}__country__isnull": True, f"{document}__region__isnull": True}
        )
    return condition


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
    searchable = _registration(model)
    key = searchable.key
    base = model._default_manager.all() if queryset is None else queryset
    base = base & model._default_manager.visible_to(user)
    terms = words(query)
    if not terms:  # still a result callers may order by rank
        return base.none().annotate(search_rank=Value(0.0, output_field=models.FloatField()))
    scope = _document_scope(searchable, model, user)
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank

        tsquery = SearchQuery(_pg_query(terms, match), search_type="raw", config="simple")
        found = Q(search_document__vector=tsquery)
        if scope is not None:
            found &= scope
        return (
            base.filter(found)
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
    found = Q(pk__in=matching)
    if scope is not None:
        found &= scope
    return base.filter(found).annotate(search_rank=rank).order_by("-search_rank", "-pk")
