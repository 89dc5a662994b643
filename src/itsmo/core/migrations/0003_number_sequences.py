"""Reference numbers from PostgreSQL sequences (see ``itsmo.core.numbering``).

Installs ``core_next_numbers(prefix, count)`` and moves every counter of ``core_sequence``
into its sequence, so numbering goes on where it stopped. Reversing writes the sequences'
positions back into the counters. SQLite keeps the counters: nothing to do there.
"""

from django.db import migrations

FIRST_VALUE = 1001

FUNCTION = f"""
CREATE OR REPLACE FUNCTION core_next_numbers(prefix text, amount integer)
RETURNS SETOF bigint LANGUAGE plpgsql AS $$
DECLARE
    name text := 'core_number_' || lower(prefix);
    seq regclass := to_regclass(name);
BEGIN
    IF seq IS NULL THEN
        BEGIN
            EXECUTE format(
                'CREATE SEQUENCE %I AS bigint START {FIRST_VALUE} OWNED BY core_sequence.prefix',
                name
            );
        EXCEPTION WHEN duplicate_table OR unique_violation THEN
            NULL;  -- another transaction created it first
        END;
        seq := name::regclass;
    END IF;
    RETURN QUERY SELECT nextval(seq) FROM generate_series(1, amount);
END
$$;
"""


def counters_to_sequences(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    Sequence = apps.get_model("core", "Sequence")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(FUNCTION)
        for prefix, last_value in Sequence.objects.values_list("prefix", "last_value"):
            name = f"core_number_{prefix.lower()}"
            cursor.execute(
                f'CREATE SEQUENCE IF NOT EXISTS "{name}" AS bigint START {FIRST_VALUE} '
                "OWNED BY core_sequence.prefix"
            )
            if last_value >= FIRST_VALUE:
                cursor.execute("SELECT setval(%s, %s)", [name, last_value])


def sequences_to_counters(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    Sequence = apps.get_model("core", "Sequence")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT sequencename, last_value FROM pg_sequences "
            "WHERE schemaname = current_schema() AND sequencename LIKE 'core\\_number\\_%%'"
        )
        for name, last_value in cursor.fetchall():
            if last_value is not None:
                prefix = name.removeprefix("core_number_").upper()
                Sequence.objects.update_or_create(prefix=prefix, defaults={"last_value": last_value})
            cursor.execute(f'DROP SEQUENCE "{name}"')
        cursor.execute("DROP FUNCTION IF EXISTS core_next_numbers(text, integer)")


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_generation"),
    ]

    operations = [
        migrations.RunPython(counters_to_sequences, sequences_to_counters),
    ]
