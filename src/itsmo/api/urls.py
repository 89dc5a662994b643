"""The Itsmo API under /api/v1/: one NinjaAPI, one router per app."""

from __future__ import annotations

from ninja import NinjaAPI

from . import problems
from .auth import AUTH

api = NinjaAPI(
    title="Itsmo API",
    version="1",
    description=(
        "IT service management with a built-in Service Management Office. "
        "Authenticate with `Authorization: Bearer <token>` (personal tokens from your "
        "profile page) or a browser session. Errors are RFC 9457 problem+json. "
        "Lists are paginated with `page` and `page_size` (at most 500)."
    ),
    auth=AUTH,
    urls_namespace="api",
)
problems.install(api)

from itsmo.accounts.api import router as accounts_router  # noqa: E402
from itsmo.organization.api import router as organization_router  # noqa: E402

api.add_router("", accounts_router)
api.add_router("", organization_router)
