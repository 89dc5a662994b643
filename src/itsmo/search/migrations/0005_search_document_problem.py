import django.db.models.deletion
from django.db import migrations, models

#: SQLite rebuilds the table to add a one-to-one (unique) column, which drops its triggers:
#: put back the one that removes a deleted document's FTS5 row (see 0001 and 0002).
SQLITE_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS search_document_deleted AFTER DELETE ON search_searchdocument "
    "BEGIN DELETE FROM search_fts WHERE rowid = old.id; END"
)


def restore_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER)


class Migration(migrations.Migration):
    dependencies = [
        ("problems", "0002_problem_lifecycle_tasks_candidates"),
        ("search", "0004_search_document_scope_backfill"),
    ]

    operations = [
        # Unapplying removes the column (another rebuild): the trigger comes back after it.
        migrations.RunPython(migrations.RunPython.noop, restore_trigger),
        migrations.AddField(
            model_name="searchdocument",
            name="problem",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="search_document",
                to="problems.problem",
            ),
        ),
        migrations.RunPython(restore_trigger, migrations.RunPython.noop),
    ]
