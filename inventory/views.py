"""GET /stores/{id}/inventory/: a store's stock, served from a versioned Redis cache."""

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apikeys.scopes import Scope
from config.pagination import page_size_pagination
from config.schema import error_responses
from config.throttling import ListingThrottle
from inventory.selectors import store_inventory_page
from inventory.serializers import InventoryRowOutputSerializer


class StoreInventoryListView(APIView):
    required_scope = Scope.STORES_READ
    pagination_class = page_size_pagination(100, 1000)
    throttle_classes = [ListingThrottle]

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
        page = paginator.page_requested(request)
        # The cached page holds rows and the count; its links depend on the request.
        listing = store_inventory_page(store_id=store_id, page=page)
        rows = InventoryRowOutputSerializer(listing.rows, many=True).data
        return Response(paginator.page_body(request, page, count=listing.count, results=rows))
