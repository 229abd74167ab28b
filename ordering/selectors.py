"""Order reads: what an order refers to, and a store's orders with their item totals."""

from datetime import datetime

from django.db import connection
from django.db.models import IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from catalog.models import Product
from ordering.models import Order, OrderItem

# Ids are bigint: a larger number cannot name a row (and would overflow the query).
_MAX_ID = 2**63 - 1
PRODUCT_FIELDS = ["id", "title", "price"]
_REFERENCES_SQL = (
    "SELECT EXISTS (SELECT 1 FROM inventory_store WHERE id = %s), p.id, p.title, p.price"
    " FROM (VALUES (1)) AS one LEFT JOIN catalog_product p ON p.id = ANY(%s)"
)


def order_references(*, store_id: int, product_ids: list[int]) -> tuple[bool, dict[int, Product]]:
    """Whether the store exists, and those of the products that exist (id, title and price
    loaded), in one statement: every order checks both before its transaction."""
    if not 0 < store_id <= _MAX_ID:
        return False, {}
    wanted = [pid for pid in product_ids if 0 < pid <= _MAX_ID]
    with connection.cursor() as cursor:
        cursor.execute(_REFERENCES_SQL, [store_id, wanted])
        rows = cursor.fetchall()
    products = {
        row[1]: Product.from_db(connection.alias, PRODUCT_FIELDS, row[1:])
        for row in rows
        if row[1] is not None
    }
    return rows[0][0], products


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
