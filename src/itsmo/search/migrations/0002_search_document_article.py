import django.db.models.deletion
from django.db import migrations, models

#: SQLite rebuilds the table to add a foreign key column, which drops its triggers: put
#: back the one that removes a deleted document's FTS5 row (see 0001).
SQLITE_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS search_document_deleted AFTER DELETE ON search_searchdocument "
    "BEGIN DELETE FROM search_fts WHERE rowid = old.id; END"
)


def restore_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER)


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0001_initial"),
        ("search", "0001_initial"),
    ]

    operations = [
        # Unapplying removes the column (another rebuild): the trigger comes back after it.
        migrations.RunPython(migrations.RunPython.noop, restore_trigger),
        migrations.AddField(
            model_name="searchdocument",
            name="article",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="search_document",
                to="knowledge.article",
            ),
        ),
        migrations.RunPython(restore_trigger, migrations.RunPython.noop),
    ]
