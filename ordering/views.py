"""POST /orders/ and GET /stores/{id}/orders/: parse, call one service or selector, serialize."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apikeys.scopes import Scope
from config.caller import caller
from config.errors import InvalidParameters
from config.pagination import page_size_pagination
from config.schema import error_responses
from config.throttling import ListingThrottle, OrderPlaceThrottle
from inventory.selectors import store_check_exists
from ordering.idempotency import IdempotencyKey
from ordering.limits import MAX_IDEMPOTENCY_KEY_LENGTH
from ordering.selectors import store_order_list
from ordering.serializers import (
    OrderOutputSerializer,
    OrderPlaceInputSerializer,
    StoreOrderRowOutputSerializer,
)
from ordering.services import OrderLine, order_place, placement_response

IDEMPOTENCY_HEADER = "Idempotency-Key"


def _idempotency_key(request: Request) -> IdempotencyKey | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH:
        raise InvalidParameters(
            details={
                IDEMPOTENCY_HEADER: [f"Must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters."]
            },
        )
    return IdempotencyKey(caller=caller(request), value=key)


class OrderPlaceView(APIView):
    required_scope = Scope.ORDERS_WRITE  # a store-limited key only at its stores (body store_id)
    throttle_classes = [OrderPlaceThrottle]

    @extend_schema(
        request=OrderPlaceInputSerializer,
        responses={
            201: OrderOutputSerializer,
            **error_responses(
                400,
                404,
                409,
                describe={
                    400: "Invalid body or Idempotency-Key (`validation_error`), malformed JSON"
                    " (`malformed_request`); nothing was stored.",
                    404: "No such store (`store_not_found`).",
                    409: "The Idempotency-Key was used with another body (`idempotency_conflict`).",
                },
            ),
        },
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description=f"Client-chosen key (1-{MAX_IDEMPOTENCY_KEY_LENGTH} characters):"
                " a retry with the same key and body returns the first response with"
                " `Idempotent-Replayed: true`.",
            )
        ],
    )
    def post(self, request: Request) -> Response:
        idempotency_key = _idempotency_key(request)
        serializer = OrderPlaceInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        placement = order_place(
            store_id=serializer.validated_data["store_id"],
            lines=[OrderLine(**line) for line in serializer.validated_data["items"]],
            idempotency_key=idempotency_key,
            caller=caller(request),
        )
        response = placement.replay or placement_response(placement)
        headers = {"Idempotent-Replayed": "true"} if placement.replayed else None
        return Response(response.body, status=response.status_code, headers=headers)


class StoreOrderListView(APIView):
    required_scope = Scope.STORES_READ
    pagination_class = page_size_pagination(20, 100)
    throttle_classes = [ListingThrottle]

    @extend_schema(
        responses={
            200: StoreOrderRowOutputSerializer(many=True),
            **error_responses(
                404,
                describe={
                    404: "No such store (`store_not_found`), or a page past the end (`not_found`)."
                },
            ),
        }
    )
    def get(self, request: Request, store_id: int) -> Response:
        store_check_exists(store_id=store_id)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(store_order_list(store_id=store_id), request, self)
        return paginator.get_paginated_response(StoreOrderRowOutputSerializer(page, many=True).data)
