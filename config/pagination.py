"""Page-number pagination, strict: bad numbers are 400 and a page past the end is 404."""

from typing import Any

from django.core.paginator import InvalidPage
from rest_framework import pagination
from rest_framework.request import Request

from config.errors import InvalidParameters, NotFound


def parse_positive_int(params: Any, name: str, default: int) -> int:
    """Read a query parameter that must be a whole number >= 1, or raise a 400 naming it."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise InvalidParameters(details={name: ["A whole number is required."]}) from None
    if value < 1:
        raise InvalidParameters(details={name: ["Must be 1 or more."]})
    return value


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's page-number pagination, strict about its parameters (DRF silently ignores bad ones)."""

    page_size = 20
    max_page_size = 100
    page_size_query_param = "page_size"

    def get_page_size(self, request: Request) -> int:
        requested = parse_positive_int(
            request.query_params, self.page_size_query_param, self.page_size
        )
        return min(requested, self.max_page_size)

    def get_page_number(self, request: Request, paginator: Any) -> int:
        return parse_positive_int(request.query_params, self.page_query_param, 1)

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any]:
        self.request = request
        page_size = self.get_page_size(request)
        paginator = self.django_paginator_class(queryset, page_size)
        page_number = self.get_page_number(request, paginator)
        try:
            self.page = paginator.page(page_number)
        except InvalidPage:
            raise NotFound("That page is past the end of the results.") from None
        return list(self.page)


def page_size_pagination(default: int, maximum: int) -> type[PageNumberPagination]:
    """A pagination class with its own default and maximum page size."""
    return type(
        f"PageNumberPagination{default}x{maximum}",
        (PageNumberPagination,),
        {"page_size": default, "max_page_size": maximum},
    )
