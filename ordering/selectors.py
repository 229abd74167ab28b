"""Order reads: a store's orders with their item totals."""

from datetime import datetime

from django.db.models import IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from ordering.models import Order, OrderItem


def store_order_list(*, store_id: int) -> QuerySet[Order]:
    """The store's orders, newest first (ties: higher id first), each with `total_items`.

    `total_items` is a correlated subquery rather than a JOIN + GROUP BY: the page is one query
    walking the (store, -created_at, -id) index, and the paginator's COUNT drops the annotation.
    """
    totals = (
        OrderItem.objects.filter(order=OuterRef("pk"))
        .order_by()
        .values("order")
        .annotate(total=Sum("quantity_requested"))
        .values("total")
    )
    return (
        Order.objects.filter(store_id=store_id)
        .order_by("-created_at", "-id")
        .annotate(
            total_items=Coalesce(
                Subquery(totals, output_field=IntegerField()), Value(0), output_field=IntegerField()
            )
        )
        .only("id", "status", "created_at")
    )


def order_confirmation_pending_ids(*, older_than: datetime, limit: int) -> list[int]:
    """Confirmed orders whose confirmation was not sent, oldest first (the sweep's worklist)."""
    return list(
        Order.objects.filter(
            status=Order.Status.CONFIRMED,
            confirmation_sent_at__isnull=True,
            created_at__lt=older_than,
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
