"""The portfolio tests share the CMDB fixtures (services, processes, API client)."""

from tests.cmdb.conftest import (  # noqa: F401
    Api,
    api_as,
    classes,
    route_sales,
    sales,
)
