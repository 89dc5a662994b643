"""Search tests reuse the incidents fixtures (groups, services, incident factory)."""

from django.db import connection

from tests.incidents.conftest import (  # noqa: F401
    api_as,
    desk_mexico_managed,
    erp,
    mail_and_tasks,
    manager_mexico,
    open_mexico_incident,
)


def stored(record) -> tuple:
    """What the index holds for ``record`` (an incident, a problem…): its text as the engine
    keeps it, and the scope copied on its document."""
    key = f"{record._meta.model_name}_id"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT vector::text, country_id, region_id FROM search_searchdocument"
                f" WHERE {key} = %s",
                [record.pk],
            )
        else:
            cursor.execute(
                "SELECT f.title, f.body, f.comments, d.country_id, d.region_id"
                " FROM search_searchdocument d JOIN search_fts f ON f.rowid = d.id"
                f" WHERE d.{key} = %s",
                [record.pk],
            )
        return tuple(cursor.fetchall())
