"""The portfolio tests share the CMDB fixtures (services, processes, API client)."""

from tests.cmdb.conftest import (  # noqa: F401
    Api,
    api_as,
    route_sales,
    sales,
)
