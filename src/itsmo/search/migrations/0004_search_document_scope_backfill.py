"""Copy each incident's scope (country, region) onto its search document, then index it.

Not atomic: each batch of documents commits on its own, so a large table is not locked for
the whole copy and intake keeps writing. The copy is idempotent (run it again after a
failure); documents written meanwhile by code that predates 0003 have no scope until
``itsmo search_reindex``. The indexes are built after the copy (cheaper than maintaining
them row by row).
"""

from django.db import migrations, models

BATCH = 20_000

POSTGRES_COPY = (
    "UPDATE search_searchdocument AS d SET country_id = i.country_id, region_id = i.region_id"
    " FROM incidents_incident AS i WHERE i.id = d.incident_id AND d.id >= %s AND d.id < %s"
    " AND (i.country_id IS NOT NULL OR i.region_id IS NOT NULL)"
)
SQLITE_COPY = (
    "UPDATE search_searchdocument SET"
    " country_id = (SELECT i.country_id FROM incidents_incident i"
    " WHERE i.id = search_searchdocument.incident_id),"
    " region_id = (SELECT i.region_id FROM incidents_incident i"
    " WHERE i.id = search_searchdocument.incident_id)"
    " WHERE incident_id IS NOT NULL AND id >= %s AND id < %s"
)


def copy_scope(apps, schema_editor):
    connection = schema_editor.connection
    copy = POSTGRES_COPY if connection.vendor == "postgresql" else SQLITE_COPY
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min(id), max(id) FROM search_searchdocument WHERE incident_id IS NOT NULL"
        )
        low, high = cursor.fetchone()
        if low is None:
            return
        for start in range(low, high + 1, BATCH):
            cursor.execute(copy, [start, start + BATCH])


def analyze(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ANALYZE search_searchdocument")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("incidents", "0001_initial"),
        ("search", "0003_search_document_scope"),
    ]

    operations = [
        migrations.RunPython(copy_scope, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="searchdocument",
            index=models.Index(
                condition=models.Q(("country__isnull", False)),
                fields=["country"],
                name="search_document_country",
            ),
        ),
        migrations.AddIndex(
            model_name="searchdocument",
            index=models.Index(
                condition=models.Q(("country__isnull", True), ("region__isnull", False)),
                fields=["region"],
                name="search_document_region",
            ),
        ),
        migrations.RunPython(analyze, migrations.RunPython.noop),
    ]
