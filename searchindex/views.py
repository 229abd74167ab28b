"""Search and suggest endpoints: parse the query string, call search, serialize."""

from typing import Any

from django.http import QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apikeys.authentication import ApiKeyAuthentication
from apikeys.permissions import has_search_admin
from apikeys.scopes import Scope
from config.pagination import page_size_pagination
from config.schema import RETRY_AFTER, error_responses
from config.throttling import SearchThrottle, SuggestThrottle
from searchevents.issuing import query_id_for_response
from searchevents.query_ids import Kind
from searchindex import analytics
from searchindex.documents import MAX_RESULT_WINDOW
from searchindex.queries import ProductSearchQuery
from searchindex.search import product_search
from searchindex.serializers import (
    ProductSearchInputSerializer,
    ProductSearchPageSerializer,
    SuggestInputSerializer,
    SuggestOutputSerializer,
)
from searchindex.suggest import product_suggest


def _present(request: Request) -> QueryDict:
    """Query parameters with a value: `?min_price=` means the same as no `min_price`. A QueryDict,
    so a repeatable parameter (`?brand=A&brand=B`) keeps every value."""
    present = QueryDict(mutable=True)
    for name, values in request.query_params.lists():
        kept = [value for value in values if value != ""]
        if kept:
            present.setlist(name, kept)
    return present


class ProductSearchView(APIView):
    required_scope = Scope.SEARCH
    # Signed-in staff (the search console) may search, and ask for `explain`, without a key.
    authentication_classes = [ApiKeyAuthentication, SessionAuthentication]
    throttle_classes = [SearchThrottle]
    pagination_class = page_size_pagination(20, 100, max_result_window=MAX_RESULT_WINDOW)

    @extend_schema(
        operation_id="search_products",
        summary="Search products",
        parameters=[
            ProductSearchInputSerializer,
            *pagination_class.schema_parameters(),
            RETRY_AFTER,
        ],
        responses={
            200: ProductSearchPageSerializer,
            **error_responses(
                400, 403, 404, 429, 503, describe={403: "`explain=true` without `search:admin`."}
            ),
        },
    )
    def get(self, request: Request) -> Response:
        params = ProductSearchInputSerializer(data=_present(request))
        params.is_valid(raise_exception=True)
        if params.validated_data.get("explain") and not has_search_admin(request):
            raise PermissionDenied("`explain=true` needs the `search:admin` scope.")
        paginator = self.pagination_class()
        page = paginator.page_requested(request)
        query = ProductSearchQuery(**params.validated_data, page=page.number, page_size=page.size)
        result = product_search(query=query)
        query_id = query_id_for_response(
            request,
            kind=Kind.SEARCH,
            product_ids=[hit.id for hit in result.hits],
            first_position=(page.number - 1) * page.size + 1,
            query=analytics.normalise_query(query.q),
            store_id=query.store_id,
        )
        analytics.search_recorded(request, query, result, search_id=query_id.search_id)
        body = {
            **paginator.page_body(request, page, count=result.count, results=result.hits),
            "facets": result.facets,
            "did_you_mean": result.did_you_mean,
            "relaxed": result.relaxed,
            "query_used": result.query_used,
            "rules_applied": result.rules_applied,
            "query_id": query_id.token,
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
        # The dropdown's products are what a click on this query_id may name, at 1, 2, ...
        query_id = query_id_for_response(
            request,
            kind=Kind.SUGGEST,
            product_ids=[product.id for product in suggestions.products or []],
            first_position=1,
            query=analytics.normalise_query(suggestions.query),
            store_id=params.validated_data.get("store_id"),
        )
        analytics.suggest_recorded(
            request, params.validated_data.get("store_id"), suggestions, query_id.search_id
        )
        body: dict[str, Any] = {"query": suggestions.query, "results": suggestions.titles}
        if suggestions.products is not None:
            body["products"] = suggestions.products
        body["query_id"] = query_id.token
        return Response(SuggestOutputSerializer(body).data)
