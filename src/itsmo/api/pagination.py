"""Page-based pagination with a documented maximum page size."""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from ninja import Field, Schema
from ninja.pagination import PaginationBase

#: Far beyond any real listing; keeps the row offset within what databases accept.
MAX_PAGE = 1_000_000


class PagePagination(PaginationBase):
    """``?page=N&page_size=M`` (M at most ``ITSMO_API_MAX_PAGE_SIZE``, 500)."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE, description="1-based page number")
        page_size: int = Field(
            settings.ITSMO_API_DEFAULT_PAGE_SIZE,
            ge=1,
            le=settings.ITSMO_API_MAX_PAGE_SIZE,
            description=f"items per page, at most {settings.ITSMO_API_MAX_PAGE_SIZE}",
        )

    class Output(Schema):
        items: list[Any]
        count: int
        page: int
        page_size: int
        pages: int

    items_attribute = "items"

    def paginate_queryset(self, queryset: QuerySet, pagination: Input, **params) -> dict:
        count = queryset.count()
        start = (pagination.page - 1) * pagination.page_size
        items = list(queryset[start : start + pagination.page_size])
        return {
            "items": items,
            "count": count,
            "page": pagination.page,
            "page_size": pagination.page_size,
            "pages": max(1, math.ceil(count / pagination.page_size)),
        }
