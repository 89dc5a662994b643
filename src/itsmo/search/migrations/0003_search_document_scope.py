import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("organization", "0001_initial"),
        ("search", "0002_search_document_article"),
    ]

    operations = [
        # Nullable columns without a default or constraint: a catalogue change on PostgreSQL
        # and a plain ADD COLUMN on SQLite (no table rebuild, so the FTS5 trigger stays).
        migrations.AddField(
            model_name="searchdocument",
            name="country",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="organization.country",
            ),
        ),
        migrations.AddField(
            model_name="searchdocument",
            name="region",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="organization.region",
            ),
        ),
    ]
