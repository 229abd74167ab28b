"""Accepted search events waiting to be shipped, and the client event ids already accepted."""

from django.db import models
from django.utils import timezone


class EventType(models.TextChoices):
    CLICK = "click"
    ADD_TO_CART = "add_to_cart"
    CONVERSION = "conversion"


class PendingSearchEvent(models.Model):
    """An accepted event, durable from the moment `202` is sent until Elasticsearch has it.

    `doc_id` is the event's `_id` in the data stream, fixed when the row is written: a shipment
    that is retried (the worker died, the node timed out after writing) is refused by the data
    stream as a duplicate instead of stored twice. Rows are deleted only after the node
    acknowledged them.
    """

    doc_id = models.CharField(max_length=40, unique=True)
    type = models.CharField(max_length=16, choices=EventType.choices)
    occurred_at = models.DateTimeField(default=timezone.now)
    # Who sent it (`config.caller.caller`) and the key's name, as search analytics records it.
    caller = models.CharField(max_length=64)
    api_key = models.CharField(max_length=100, null=True, blank=True)
    search_id = models.CharField(max_length=16)  # the query_id's search
    query = models.CharField(max_length=256, blank=True, default="")
    store_id = models.BigIntegerField(null=True, blank=True)  # the search's store, if any
    product_id = models.BigIntegerField()
    position = models.IntegerField(null=True, blank=True)
    event_id = models.CharField(max_length=64, null=True, blank=True)
    # Conversions recorded by orders.
    order_id = models.BigIntegerField(null=True, blank=True)
    quantity = models.IntegerField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.type} {self.product_id} ({self.search_id})"


class AcceptedEventId(models.Model):
    """A client `event_id` accepted from a caller: a repeat is ignored while this row lives.

    Kept past the 24 h a query_id lives (a repeat can come no later than that, since its
    query_id must still be valid), then purged.
    """

    doc_id = models.CharField(max_length=40, primary_key=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return self.doc_id
