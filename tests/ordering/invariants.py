"""The stock invariant, as a reusable assertion: initial = current + confirmed, never negative."""

from collections import defaultdict

from django.db.models import Sum

from inventory.models import Inventory
from ordering.models import Order, OrderItem

StockSnapshot = dict[tuple[int, int], int]


def stock_snapshot() -> StockSnapshot:
    """Every (store_id, product_id) quantity, as stored now."""
    return {
        (store_id, product_id): quantity
        for store_id, product_id, quantity in Inventory.objects.values_list(
            "store_id", "product_id", "quantity"
        )
    }


def confirmed_quantities() -> StockSnapshot:
    totals: StockSnapshot = defaultdict(int)
    rows = (
        OrderItem.objects.filter(order__status=Order.Status.CONFIRMED)
        .values_list("order__store_id", "product_id")
        .annotate(total=Sum("quantity_requested"))
    )
    for store_id, product_id, total in rows:
        totals[(store_id, product_id)] += total
    return dict(totals)


def assert_stock_invariant(initial: StockSnapshot) -> None:
    """For every (store, product): initial stock = current stock + sum of confirmed quantities,
    and no stock is negative. `initial` is a `stock_snapshot()` taken before the orders."""
    current = stock_snapshot()
    confirmed = confirmed_quantities()
    assert all(quantity >= 0 for quantity in current.values()), current
    for pair in set(initial) | set(current) | set(confirmed):
        assert initial.get(pair, 0) == current.get(pair, 0) + confirmed.get(pair, 0), (
            pair,
            initial.get(pair, 0),
            current.get(pair, 0),
            confirmed.get(pair, 0),
        )
