"""Index the problems that exist already, so an upgraded database finds them at once.

What ``search.services`` writes for a problem, frozen here (a migration imports no app
code): the number and title (A); description, root cause, workaround and resolution notes
(B); public comments (C), each part cut into lower-case, accent-free words; and the
problem's country and region. Problems are few (thousands, not millions): one transaction,
batches of 2,000. A later ``itsmo search reindex`` rewrites the same documents.
"""

import re
import unicodedata

from django.db import migrations
from django.utils import timezone

BATCH = 2000
MAX_PART = 100_000
WORD = re.compile(r"[^\W_]+")

POSTGRES_INSERT = (
    "INSERT INTO search_searchdocument (problem_id, country_id, region_id, vector, updated_at)"
    " VALUES (%s, %s, %s, setweight(to_tsvector('simple', %s), 'A')"
    " || setweight(to_tsvector('simple', %s), 'B')"
    " || setweight(to_tsvector('simple', %s), 'C'), %s)"
    " ON CONFLICT (problem_id) DO NOTHING"
)


def normalize(parts) -> str:
    text = "\n".join(part or "" for part in parts).lower()
    plain = "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )
    return " ".join(WORD.findall(plain))[:MAX_PART]


def index_problems(apps, schema_editor):
    Problem = apps.get_model("problems", "Problem")
    JournalEntry = apps.get_model("core", "JournalEntry")
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_type = ContentType.objects.filter(app_label="problems", model="problem").first()
    pks = list(Problem.objects.order_by("pk").values_list("pk", flat=True))
    connection = schema_editor.connection
    now = timezone.now()
    for start in range(0, len(pks), BATCH):
        batch = pks[start : start + BATCH]
        comments: dict[int, list[str]] = {}
        if content_type is not None:
            entries = JournalEntry.objects.filter(
                content_type=content_type, object_id__in=batch, kind="comment"
            ).order_by("object_id", "occurred_at", "id")
            for object_id, body in entries.values_list("object_id", "body"):
                comments.setdefault(object_id, []).append(body)
        rows = Problem.objects.filter(pk__in=batch).values_list(
            "pk",
            "number",
            "title",
            "description",
            "root_cause",
            "workaround",
            "resolution_notes",
            "country_id",
            "region_id",
        )
        documents = [
            (
                pk,
                country,
                region,
                normalize((number, title)),
                normalize((description, cause, workaround, notes)),
                normalize(comments.get(pk, ())),
            )
            for pk, number, title, description, cause, workaround, notes, country, region in rows
        ]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.executemany(POSTGRES_INSERT, [(*d, now) for d in documents])
                continue
            for pk, country_id, region_id, title, body, remarks in documents:
                cursor.execute(
                    "INSERT INTO search_searchdocument (problem_id, country_id, region_id,"
                    " updated_at) VALUES (%s, %s, %s, %s) ON CONFLICT (problem_id) DO NOTHING",
                    (pk, country_id, region_id, now),
                )
                if cursor.rowcount:
                    cursor.execute(
                        "INSERT INTO search_fts (rowid, title, body, comments)"
                        " VALUES (%s, %s, %s, %s)",
                        (cursor.lastrowid, title, body, remarks),
                    )


def forget_problems(apps, schema_editor):
    # The trigger of 0001 removes the FTS5 rows of the deleted documents on SQLite.
    schema_editor.execute("DELETE FROM search_searchdocument WHERE problem_id IS NOT NULL")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0001_initial"),
        ("problems", "0002_problem_lifecycle_tasks_candidates"),
        ("search", "0005_search_document_problem"),
    ]

    operations = [migrations.RunPython(index_problems, forget_problems)]
