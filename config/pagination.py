"""Page-number pagination for every list endpoint: one set of rules, each view its own sizes.

A list view declares its page sizes in one line (`page_size` above the maximum is answered with
the maximum, as DRF does)::

    pagination_class = page_size_pagination(20, 100)  # default 20 rows, at most 100

Then it pages a queryset through DRF's interface (`paginate_queryset`, `get_paginated_response`),
or, where the rows and their count come from elsewhere (a cache, Elasticsearch), reads the page
asked for with `page_requested(request)` and answers with `page_body(request, page, ...)`. Either
way a non-integer or zero `page`/`page_size` is a 400, a page past the end a 404 `not_found`, and
the body is `{"count", "next", "previous", "results"}`. drf-spectacular documents `page` and
`page_size` from the same class (`schema_parameters()` where a view declares them by hand).
"""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import pagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from config.errors import InvalidParameters, NotFound

PAGE_PARAM = "page"
PAGE_SIZE_PARAM = "page_size"


def _positive_int(params: Any, name: str, default: int) -> int:
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


@dataclass(frozen=True)
class PageRequest:
    """The page a request asks for, validated: `number` from 1, `size` rows (within the cap)."""

    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    def check_exists(self, count: int) -> None:
        """Raise `NotFound` (404 `not_found`) past the end; page 1 exists even with no rows."""
        if self.number > 1 and self.offset >= count:
            raise NotFound("That page is past the end of the results.")

    def has_next(self, count: int) -> bool:
        return self.number * self.size < count

    def rows(self, queryset: QuerySet) -> tuple[int, list[Any]]:
        """The queryset's count and this page of it (two queries; none for the rows of an empty
        first page), or `NotFound` past the end."""
        count = queryset.count()
        self.check_exists(count)
        stop = min(self.offset + self.size, count)
        return count, list(queryset[self.offset : stop]) if stop > self.offset else []


class PageNumberPagination(pagination.BasePagination):
    """The one pagination of the API; subclass through `page_size_pagination(...)`."""

    page_size = 20
    max_page_size = 100
    # How deep a backend can page (Elasticsearch's max_result_window); None: as deep as the rows.
    max_result_window: int | None = None

    def page_requested(self, request: Request) -> PageRequest:
        """The page asked for; 400 naming the parameter when it is not a whole number >= 1."""
        # page_size first, in the order DRF's paginator reads them: with both wrong, the 400 names
        # page_size (for every list alike).
        size = min(
            _positive_int(request.query_params, PAGE_SIZE_PARAM, self.page_size),
            self.max_page_size,
        )
        page = PageRequest(number=_positive_int(request.query_params, PAGE_PARAM, 1), size=size)
        window = self.max_result_window
        if window is not None and page.number * page.size > window:
            raise InvalidParameters(
                f"Results beyond the {window:,}th cannot be paged; narrow the search.",
                details={PAGE_PARAM: [f"page x page_size may be at most {window}."]},
            )
        return page

    def page_body(
        self, request: Request, page: PageRequest, *, count: int, results: Any
    ) -> dict[str, Any]:
        """`{"count", "next", "previous", "results"}` for `page` of `count` rows; 404 past the end.

        The links are this request's URL with only `page` changed (and left out for page 1).
        """
        page.check_exists(count)
        url = request.build_absolute_uri()
        return {
            "count": count,
            "next": _page_link(url, page.number + 1) if page.has_next(count) else None,
            "previous": _page_link(url, page.number - 1) if page.number > 1 else None,
            "results": results,
        }

    # DRF's interface, for a view that pages a queryset.

    # Narrower than DRF's (querysets, not lists): the count is one database query.
    def paginate_queryset(  # type: ignore[override]
        self, queryset: QuerySet, request: Request, view: Any = None
    ) -> list:
        self._request = request
        self._page = self.page_requested(request)
        self._count, rows = self._page.rows(queryset)
        return rows

    def get_paginated_response(self, data: Any) -> Response:
        return Response(self.page_body(self._request, self._page, count=self._count, results=data))

    # The schema: drf-spectacular asks list views' paginators for these.

    @classmethod
    def schema_parameters(cls) -> list[OpenApiParameter]:
        """`page` and `page_size`, for `extend_schema(parameters=...)` on a view that is not a
        plain list (drf-spectacular documents plain lists by itself)."""
        return [
            OpenApiParameter(name, OpenApiTypes.INT, description=description)
            for name, description in cls._parameter_descriptions().items()
        ]

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": name,
                "required": False,
                "in": OpenApiParameter.QUERY,
                "description": description,
                "schema": {"type": "integer"},
            }
            for name, description in self._parameter_descriptions().items()
        ]

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        # DRF's page shape, with which these lists have always been documented.
        return pagination.PageNumberPagination().get_paginated_response_schema(schema)

    @classmethod
    def _parameter_descriptions(cls) -> dict[str, str]:
        size = f"Rows per page (default {cls.page_size}, at most {cls.max_page_size})"
        if cls.max_result_window is None:
            size += "."
        else:
            size += f"; page x page_size may not pass {cls.max_result_window:,}."
        return {PAGE_PARAM: "Page number, from 1.", PAGE_SIZE_PARAM: size}


def _page_link(url: str, number: int) -> str:
    if number == 1:
        return remove_query_param(url, PAGE_PARAM)
    return replace_query_param(url, PAGE_PARAM, number)


def page_size_pagination(
    default: int, maximum: int, *, max_result_window: int | None = None
) -> type[PageNumberPagination]:
    """A view's pagination: `default` rows per page, at most `maximum`, and no row past
    `max_result_window` when given (a larger page x page_size is a 400)."""
    return type(
        f"PageNumberPagination{default}x{maximum}",
        (PageNumberPagination,),
        {"page_size": default, "max_page_size": maximum, "max_result_window": max_result_window},
    )
