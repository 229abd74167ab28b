"""Reads: the confirmed orders whose conversions are still to be recorded."""

from ordering.models import Order


def orders_with_pending_conversions(*, limit: int) -> list[int]:
    """Oldest first; served by the partial index `order_conversions_pending_idx`."""
    return list(
        Order.objects.filter(conversions_pending=True, status=Order.Status.CONFIRMED)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
