"""GET /stores/{id}/inventory/: a store's stock, served from a versioned Redis cache."""

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from apikeys.scopes import Scope
from config.pagination import page_size_pagination
from config.schema import error_responses
from inventory.selectors import store_inventory_page
from inventory.serializers import InventoryRowOutputSerializer


class StoreInventoryListView(APIView):
    required_scope = Scope.STORES_READ
    pagination_class = page_size_pagination(100, 1000)

    @extend_schema(
        responses={
            200: InventoryRowOutputSerializer(many=True),
            **error_responses(
                404,
                describe={
                    404: "No such store (`store_not_found`), or a page past the end (`not_found`)."
                },
            ),
        }
    )
    def get(self, request: Request, store_id: int) -> Response:
        paginator = self.pagination_class()
        page_size = paginator.get_page_size(request)
        page = paginator.get_page_number(request, None)
        listing = store_inventory_page(store_id=store_id, page=page, page_size=page_size)
        # The cached page holds rows and the count; links depend on the request, so built here.
        url = request.build_absolute_uri()
        last_page = max(1, -(-listing.count // page_size))
        next_link = replace_query_param(url, "page", page + 1) if page < last_page else None
        previous_link = None
        if page > 1:
            previous_link = (
                remove_query_param(url, "page")
                if page == 2
                else replace_query_param(url, "page", page - 1)
            )
        return Response(
            {
                "count": listing.count,
                "next": next_link,
                "previous": previous_link,
                "results": InventoryRowOutputSerializer(listing.rows, many=True).data,
            }
        )
