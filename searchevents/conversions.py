"""Conversions recorded by orders: the attributed lines of a confirmed order, as pending events."""

import uuid

from django.db import transaction

from ordering.models import Order, OrderItem
from searchevents.hits import HitsUnavailable, hits_shown
from searchevents.models import EventType, PendingSearchEvent


def _search_id(token: str | None) -> str:
    # Stored only after `query_id_verify` accepted it (and only then), so its shape is known.
    return (token or "").split(".")[1]


def order_conversions_record(*, order_id: int) -> int:
    """Record the conversions of a confirmed order whose lines carry a query_id; how many.

    Once per order whatever calls it (the after-commit task, the sweep, a retry): the order's
    `conversions_pending` flag is cleared in the transaction that writes the events, under the
    order's row lock.
    """
    with transaction.atomic():
        order = (
            Order.objects.select_for_update()
            .filter(pk=order_id, conversions_pending=True, status=Order.Status.CONFIRMED)
            .only("id", "created_at", "store_id")
            .first()
        )
        if order is None:
            return 0
        items = list(
            OrderItem.objects.filter(order_id=order_id, query_id__isnull=False).only(
                "id", "product_id", "quantity_requested", "query_id"
            )
        )
        try:
            shown = hits_shown([_search_id(item.query_id) for item in items])
        except HitsUnavailable:
            shown = {}  # the conversion counts without its query text and position
        PendingSearchEvent.objects.bulk_create(
            [
                PendingSearchEvent(
                    doc_id="c" + uuid.uuid4().hex,
                    type=EventType.CONVERSION,
                    occurred_at=order.created_at,
                    caller=f"order:{order_id}",
                    search_id=_search_id(item.query_id),
                    query=hits.query if (hits := shown.get(_search_id(item.query_id))) else "",
                    store_id=order.store_id,
                    product_id=item.product_id,
                    position=hits.positions.get(item.product_id) if hits else None,
                    order_id=order_id,
                    quantity=item.quantity_requested,
                )
                for item in items
            ]
        )
        Order.objects.filter(pk=order_id).update(conversions_pending=False)
    return len(items)
