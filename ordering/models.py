"""Orders and their lines; a REJECTED order is stored too, with the reason on each failing line."""

from decimal import Decimal

from django.db import models
from django.utils import timezone

from catalog.models import Product
from inventory.models import Store
from ordering.limits import MAX_CALLER_LENGTH, MAX_IDEMPOTENCY_KEY_LENGTH


class Order(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "CONFIRMED"
        REJECTED = "REJECTED"

    # Indexed by order_store_newest_idx, which leads with the store.
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="orders", db_index=False
    )
    status = models.CharField(max_length=16, choices=Status.choices)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    # Set at placement when a line carries a valid query_id; cleared once the conversions are
    # recorded (searchevents), after commit: the locked section never does that work.
    conversions_pending = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["store", "-created_at", "-id"], name="order_store_newest_idx"),
            # The confirmation sweep's worklist; tiny because sent orders drop out of it.
            models.Index(
                fields=["created_at"],
                condition=models.Q(status="CONFIRMED", confirmation_sent_at__isnull=True),
                name="order_confirmation_pending_idx",
            ),
            # The conversion sweep's worklist; empty once each order's conversions are recorded.
            models.Index(
                fields=["id"],
                condition=models.Q(status="CONFIRMED", conversions_pending=True),
                name="order_conversions_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Order {self.pk} ({self.status})"


class OrderItem(models.Model):
    class RejectReason(models.TextChoices):
        INSUFFICIENT_STOCK = "insufficient_stock"
        NOT_STOCKED = "not_stocked"

    # Indexed by the (order, product) unique constraint, which leads with the order.
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items", db_index=False)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_items")
    quantity_requested = models.IntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    # Filled only on the failing lines of a REJECTED order.
    quantity_available = models.IntegerField(null=True, blank=True)
    reject_reason = models.CharField(
        max_length=32, choices=RejectReason.choices, blank=True, default=""
    )
    # The verified query_id of the search that led to this line (a conversion), else null.
    query_id = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity_requested__gte=1), name="orderitem_quantity_positive"
            ),
            models.UniqueConstraint(
                fields=["order", "product"], name="orderitem_unique_order_product"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity_requested} x {self.product_id}"


class IdempotencyRecord(models.Model):
    """A placed request under a client's Idempotency-Key: its body hash and the response it got.

    The unique key is what settles two concurrent requests with the same key: the second INSERT
    waits for the first transaction and then fails, and its request answers with this response.
    """

    # Whose key it is (`config.caller.caller`: the API key, or the client address without one):
    # keys are a namespace per caller, so another caller's key is simply a new key.
    caller = models.CharField(max_length=MAX_CALLER_LENGTH, default="", db_default="")
    key = models.CharField(max_length=MAX_IDEMPOTENCY_KEY_LENGTH)
    request_hash = models.CharField(max_length=64)
    order = models.OneToOneField(
        Order, null=True, blank=True, on_delete=models.CASCADE, related_name="idempotency_record"
    )
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # The JSON text as first sent, so a replay is the same body, key order included.
    response_body = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["caller", "key"], name="idempotency_caller_key_unique")
        ]

    def __str__(self) -> str:
        return f"Idempotency-Key {self.key!r} of {self.caller or 'anyone'} -> order {self.order_id}"
