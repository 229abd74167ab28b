"""Input and output shapes of order placement and the store order listing."""

from typing import Any, cast

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings

from config.formats import money, timestamp
from ordering.limits import MAX_ID, MAX_LINES, MAX_QUANTITY, MIN_QUANTITY
from ordering.models import Order


class OrderLinesInputSerializer(serializers.ListSerializer):
    """The order's lines, with errors in the contract's shape.

    DRF 3.18 reports per-item errors as a dict keyed by index; the contract
    (../shared/docs/API.md) has a list aligned with the request's lines, `{}` for a valid line.
    List-level errors (not a list, empty, too long) become a plain list of messages, as DRF's
    ListField gives.
    """

    def to_internal_value(self, data: Any) -> list[Any]:
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            detail = exc.detail
            if isinstance(detail, dict) and detail and all(isinstance(k, int) for k in detail):
                # A list's errors are keyed by line index; the stubs key every detail by str.
                by_index = cast(dict[int, Any], detail)
                raise serializers.ValidationError(
                    [by_index.get(index, {}) for index in range(len(data))]
                ) from None
            if isinstance(detail, dict) and set(detail) == {api_settings.NON_FIELD_ERRORS_KEY}:
                raise serializers.ValidationError(
                    detail[api_settings.NON_FIELD_ERRORS_KEY]
                ) from None
            raise


class QueryIdField(serializers.Field):
    """A line's `query_id`: whatever was sent is kept if it is a string, else dropped.

    Never a 400: an unusable query_id only leaves the line unattributed (API.md).
    """

    def to_internal_value(self, data: Any) -> str | None:
        return data if isinstance(data, str) else None

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field(
    {"type": "string", "nullable": True, "description": "From the search that led to this line."}
)
class QueryIdSchemaField(QueryIdField):
    pass


class OrderLineInputSerializer(serializers.Serializer):
    class Meta:
        list_serializer_class = OrderLinesInputSerializer

    product_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    quantity_requested = serializers.IntegerField(min_value=MIN_QUANTITY, max_value=MAX_QUANTITY)
    query_id = QueryIdSchemaField(required=False, allow_null=True, default=None)


class OrderPlaceInputSerializer(serializers.Serializer):
    store_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    # many=True passes max_length on to the ListSerializer; the stubs do not know that.
    items = OrderLineInputSerializer(many=True, allow_empty=False, max_length=MAX_LINES)  # type: ignore[call-arg]


class OrderItemOutputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    product_title = serializers.CharField(source="product.title")
    quantity_requested = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=10, decimal_places=2)


class RejectedItemOutputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    quantity_requested = serializers.IntegerField()
    quantity_available = serializers.IntegerField()
    reason = serializers.CharField(source="reject_reason")


class OrderOutputSerializer(serializers.Serializer):
    """The placement response; reads an `OrderPlacement` (the order, its lines in request order)."""

    id = serializers.IntegerField(source="order.id")
    store_id = serializers.IntegerField(source="order.store_id")
    status = serializers.ChoiceField(source="order.status", choices=Order.Status.choices)
    created_at = serializers.DateTimeField(source="order.created_at")
    total_items = serializers.IntegerField()
    items = OrderItemOutputSerializer(source="lines", many=True)
    rejected_items = RejectedItemOutputSerializer(source="rejected_lines", many=True)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        # Built by hand: copying the nested fields for every order cost more than any one SQL
        # statement of the placement (bench/orders.py). The fields above still define the
        # schema; the placement tests compare whole response bodies against it.
        order = instance.order
        return {
            "id": order.id,
            "store_id": order.store_id,
            "status": order.status,
            "created_at": timestamp(order.created_at),
            "total_items": instance.total_items,
            "items": [
                {
                    "product_id": line.product_id,
                    "product_title": line.product.title,
                    "quantity_requested": line.quantity_requested,
                    "unit_price": money(line.unit_price),
                }
                for line in instance.lines
            ],
            "rejected_items": [
                {
                    "product_id": line.product_id,
                    "quantity_requested": line.quantity_requested,
                    "quantity_available": line.quantity_available,
                    "reason": line.reject_reason,
                }
                for line in instance.rejected_lines
            ],
        }


class StoreOrderRowOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    total_items = serializers.IntegerField()
