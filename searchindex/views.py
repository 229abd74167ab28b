"""Search and suggest endpoints: parse the query string, call search, serialize."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from apikeys.scopes import Scope
from config.pagination import parse_positive_int
from config.schema import RETRY_AFTER, error_responses
from searchindex.search import ProductSearchQuery, product_search, product_suggest
from searchindex.serializers import (
    ProductSearchInputSerializer,
    ProductSearchPageSerializer,
    SuggestInputSerializer,
    SuggestOutputSerializer,
)
from searchindex.throttling import SearchThrottle, SuggestThrottle

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

PAGE_PARAMETERS = [
    OpenApiParameter("page", OpenApiTypes.INT, description="Page number, from 1."),
    OpenApiParameter(
        "page_size",
        OpenApiTypes.INT,
        description=f"Rows per page (default {DEFAULT_PAGE_SIZE}, at most {MAX_PAGE_SIZE}); "
        "page x page_size may not pass 10,000.",
    ),
]


def _present(request: Request) -> dict[str, str]:
    """Query parameters with a value: `?min_price=` means the same as no `min_price`."""
    return {name: value for name, value in request.query_params.items() if value != ""}


def _page_link(request: Request, page: int) -> str:
    url = request.build_absolute_uri()
    return remove_query_param(url, "page") if page == 1 else replace_query_param(url, "page", page)


class ProductSearchView(APIView):
    required_scope = Scope.SEARCH
    throttle_classes = [SearchThrottle]

    @extend_schema(
        operation_id="search_products",
        summary="Search products",
        parameters=[ProductSearchInputSerializer, *PAGE_PARAMETERS, RETRY_AFTER],
        responses={200: ProductSearchPageSerializer, **error_responses(400, 404, 429, 503)},
    )
    def get(self, request: Request) -> Response:
        params = ProductSearchInputSerializer(data=_present(request))
        params.is_valid(raise_exception=True)
        page = parse_positive_int(request.query_params, "page", 1)
        page_size = min(
            parse_positive_int(request.query_params, "page_size", DEFAULT_PAGE_SIZE),
            MAX_PAGE_SIZE,
        )
        result = product_search(
            query=ProductSearchQuery(**params.validated_data, page=page, page_size=page_size)
        )
        body: dict[str, Any] = {
            "count": result.count,
            "next": _page_link(request, page + 1) if page * page_size < result.count else None,
            "previous": _page_link(request, page - 1) if page > 1 else None,
            "results": result.hits,
            "facets": result.facets,
        }
        return Response(ProductSearchPageSerializer(body).data)


class ProductSuggestView(APIView):
    required_scope = Scope.SEARCH
    throttle_classes = [SuggestThrottle]

    @extend_schema(
        operation_id="suggest_products",
        summary="Autocomplete product titles",
        parameters=[
            SuggestInputSerializer,
            # Documented as required: a missing `q` is answered like a short one (400).
            OpenApiParameter(
                "q",
                OpenApiTypes.STR,
                required=True,
                description="The typed prefix, at least 3 characters after trimming "
                "(else 400 `query_too_short`).",
            ),
            RETRY_AFTER,
        ],
        responses={
            200: SuggestOutputSerializer,
            **error_responses(
                400, 429, 503, describe={400: "`query_too_short`, or `validation_error`."}
            ),
        },
    )
    def get(self, request: Request) -> Response:
        params = SuggestInputSerializer(data=_present(request))
        params.is_valid(raise_exception=True)
        suggestions = product_suggest(**params.validated_data)
        return Response(
            SuggestOutputSerializer(
                {"query": suggestions.query, "results": suggestions.titles}
            ).data
        )
