"""Survey tests reuse the incident fixtures (groups, callers, an open incident)."""

from tests.incidents.conftest import (  # noqa: F401
    api_as,
    incident_mexico,
    mail_and_tasks,
    open_mexico_incident,
)
