"""Search tests reuse the incidents fixtures (groups, services, incident factory)."""

from tests.incidents.conftest import (  # noqa: F401
    api_as,
    desk_mexico_managed,
    erp,
    mail_and_tasks,
    manager_mexico,
    open_mexico_incident,
)
